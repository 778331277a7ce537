/**
 * The names this package's spans and metrics use. OpenTelemetry's semantic conventions have no
 * namespace for webhooks, so ours are under `imagegen_webhooks.` (their rule for a library's own
 * names), beside the conventions' shared ones where they fit (`http.response.status_code`,
 * `error.type`, and the messaging ones for the inbox's queue). Durations are in seconds, as the
 * conventions ask of every duration histogram.
 */
export const INSTRUMENTATION_NAME = "imagegen-webhooks";

export const ATTR = {
  provider: "imagegen_webhooks.provider",
  eventName: "imagegen_webhooks.event.name",
  deliveryId: "imagegen_webhooks.delivery.id",
  generationId: "imagegen_webhooks.generation.id",
  outcome: "imagegen_webhooks.outcome",
  attempt: "imagegen_webhooks.attempt",
  replayed: "imagegen_webhooks.replayed",
  inboxState: "imagegen_webhooks.inbox.state",
  messagingSystem: "messaging.system",
  messagingDestination: "messaging.destination.name",
  httpStatus: "http.response.status_code",
  errorType: "error.type",
} as const;

export const METRIC = {
  deliveries: "imagegen_webhooks.deliveries",
  deliveryDuration: "imagegen_webhooks.delivery.duration",
  runs: "imagegen_webhooks.inbox.runs",
  runDuration: "imagegen_webhooks.inbox.run.duration",
  listenerDuration: "imagegen_webhooks.listener.duration",
  listenerFailures: "imagegen_webhooks.listener.failures",
  inboxDeliveries: "imagegen_webhooks.inbox.deliveries",
  inboxDead: "imagegen_webhooks.inbox.dead",
} as const;

/**
 * Bucket bounds for the duration histograms, in seconds: a delivery handled in memory takes tens
 * of microseconds, one whose listeners call out can take the provider's whole timeout.
 */
export const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
