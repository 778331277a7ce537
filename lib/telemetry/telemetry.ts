import {
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  trace,
  type Counter,
  type Histogram,
  type Meter,
  type Attributes,
  type Tracer,
} from "@opentelemetry/api";
import type { Inbox } from "../inbox/inbox";
import { watchInbox } from "./inbox-gauge";
import { callListenerTraced, type CallListener } from "./listener-span";
import { ATTR, DURATION_BUCKETS, INSTRUMENTATION_NAME, METRIC } from "./names";

/** What one receiver records with: made once, by `createTelemetry`, when the host has an SDK. */
export interface Telemetry {
  readonly tracer: Tracer;
  readonly meter: Meter;
  readonly deliveries: Counter;
  readonly deliveryDuration: Histogram;
  readonly runs: Counter;
  readonly runDuration: Histogram;
  readonly listenerDuration: Histogram;
  readonly listenerFailures: Counter;
  readonly inboxDead: Counter;
  /** The inbox's queue in the messaging conventions' words, on everything recorded of it; empty without one. */
  readonly queue: Attributes;
  /** How the pipeline calls each listener: in a span of its own, timed. */
  readonly callListener: CallListener;
  /** The counters of `count()`, made on first use. */
  readonly counters: Map<string, Counter>;
  /** Stops reading the inbox for its gauge. */
  close(): void;
}

const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();
const NoopMeter = createNoopMeter().constructor;

/**
 * Whether the host registered a tracer or a meter provider. With neither the pipeline records
 * nothing at all: it does not even call the API's no-op spans and instruments, so that the
 * package costs nothing until an SDK is installed. Metrics need the provider at this point anyway
 * (the API hands out a meter that stays a no-op, unlike its tracers): the SDK is started before
 * `createWebhooks()`, as OpenTelemetry asks of every instrumented library.
 */
function hostHasSdk(): boolean {
  const provider = trace.getTracerProvider();
  const traced = provider instanceof ProxyTracerProvider ? provider.getDelegate() !== NOOP_TRACER_PROVIDER : true;
  return traced || !(metrics.getMeter(INSTRUMENTATION_NAME) instanceof NoopMeter);
}

/** The receiver's telemetry, or `undefined` while no OpenTelemetry SDK is registered. */
export function createTelemetry(inbox: Inbox | undefined): Telemetry | undefined {
  if (!hostHasSdk()) return undefined;
  const meter = metrics.getMeter(INSTRUMENTATION_NAME);
  const tracer = trace.getTracer(INSTRUMENTATION_NAME);
  const seconds = { unit: "s", advice: { explicitBucketBoundaries: DURATION_BUCKETS } };
  const listenerDuration = meter.createHistogram(METRIC.listenerDuration, {
    ...seconds,
    description: "One listener's call, until its promise settles.",
  });
  // A queue's name is the host's own setting, bounded: two inboxes are two series.
  const destination = inbox?.destination;
  const queue: Attributes = destination
    ? { [ATTR.messagingSystem]: destination.system, [ATTR.messagingDestination]: destination.name }
    : {};
  const listenerFailures = meter.createCounter(METRIC.listenerFailures, {
    unit: "{failure}",
    description: "Listeners that threw or rejected.",
  });
  return {
    tracer,
    meter,
    deliveries: meter.createCounter(METRIC.deliveries, {
      unit: "{delivery}",
      description: "Deliveries answered, by provider and outcome (a refusal with its reason as error.type).",
    }),
    deliveryDuration: meter.createHistogram(METRIC.deliveryDuration, { ...seconds, description: "From a delivery's body to its answer." }),
    runs: meter.createCounter(METRIC.runs, { unit: "{run}", description: "Runs of stored deliveries by the inbox's workers, by outcome." }),
    runDuration: meter.createHistogram(METRIC.runDuration, { ...seconds, description: "One worker run of a stored delivery's listeners." }),
    listenerDuration,
    listenerFailures,
    inboxDead: meter.createCounter(METRIC.inboxDead, { unit: "{delivery}", description: "Stored deliveries whose last attempt failed." }),
    queue,
    callListener: callListenerTraced(tracer, listenerDuration, listenerFailures),
    counters: new Map(),
    close: inbox?.counts ? watchInbox(meter, inbox.counts.bind(inbox), queue) : () => {},
  };
}
