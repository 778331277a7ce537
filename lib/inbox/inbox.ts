/**
 * The durable inbox, as the pipeline sees it: the edge stores each checked delivery and answers
 * once it is stored; a worker, in this process or another, runs the listeners for each stored
 * delivery, with retries. `imagegen-webhooks/bullmq` implements it over BullMQ; this module only
 * names the shapes, so that the pipeline never loads BullMQ.
 */
import type { GenerationStore } from "../stores/store";

/** A delivery as the inbox keeps it: what a worker needs to rebuild its event, and nothing secret. */
export interface StoredDelivery {
  /** `<provider>:<delivery id>`: the key the inbox stores it under, once. */
  key: string;
  provider: string;
  /** The delivery's idempotency key, `WebhookEvent.id`. */
  id: string;
  /** The provider-specific event name, e.g. `crazyhorse.done`. */
  name: string;
  /** The provider's body, parsed and checked against its schema. */
  payload: unknown;
  /** ISO 8601: when the edge received it. */
  receivedAt: string;
  /** `reconciled` when it was read back from the provider's API; absent for a webhook delivery. */
  origin?: "reconciled";
  /** Propagation fields (W3C trace context) of the edge's span, for the worker's span to link to. */
  trace?: Record<string, string>;
}

/** Where a stored delivery is: waiting, running, waiting to be retried, done, or out of attempts. */
export type DeliveryStatus = "queued" | "active" | "retrying" | "completed" | "dead";

/** One line of `webhooks.deliveries.list()`. */
export interface DeliverySummary {
  key: string;
  provider: string;
  id: string;
  name: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  receivedAt: string;
  /** ISO 8601, once completed or dead. */
  finishedAt?: string;
  /** The last attempt's error message, if it failed. */
  error?: string;
  replayed: boolean;
}

/** One failed attempt of a delivery. */
export interface DeliveryAttemptError {
  /** The run's `attempt`; numbering starts again after a replay. */
  attempt: number;
  message: string;
  /** ISO 8601: when the attempt failed (it orders attempts across replays). */
  at: string;
}

/** `webhooks.deliveries.get()`: the summary, the payload, and every failed attempt's error. */
export interface DeliveryDetail extends DeliverySummary {
  payload: unknown;
  errors: DeliveryAttemptError[];
}

/** What a worker's run of one delivery knows beside the delivery. */
export interface DeliveryRun {
  /** 1 on the first run. */
  attempt: number;
  /** Run again by `deliveries.replay()`. */
  replayed: boolean;
  /** No attempt is left after this one: if it fails, the delivery is dead. */
  lastAttempt: boolean;
}

/** Which deliveries `webhooks.deliveries.list()` gives. */
export interface DeliveryFilter {
  status?: DeliveryStatus;
  provider?: string;
  /** Default 50. */
  limit?: number;
}

/** The options of `webhooks.startWorker()`. */
export interface InboxWorkerOptions {
  /** Deliveries run at once by this worker. Default 1. */
  concurrency?: number;
  /**
   * The worker's own trouble (Redis unreachable, a lock lost), never a run's failure: the worker
   * keeps going and reconnects. Default: ignored.
   */
  onError?: (error: unknown) => void;
}

/** A delivery whose last attempt failed: the worker is done with it, and it stays for inspection and replay. */
export type DeadHandler = (delivery: StoredDelivery, error: unknown, run: DeliveryRun) => void;

/** A running worker. */
export interface InboxWorker {
  /**
   * Lets the active deliveries finish, takes no other, and resolves once it has stopped. With
   * `timeoutMs`, it stops by then whatever the listeners do: a delivery still active is left, and a
   * worker takes it again once its lock runs out.
   */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** The durable inbox: `createWebhooks({ inbox })`. */
export interface Inbox {
  /**
   * Stores a delivery under its key. `stored`: it is in Redis and will run; `duplicate`: a delivery
   * with this key is already there (whichever instance stored it). Rejects, promptly, when the
   * delivery could not be stored: the edge answers `503` and the provider retries.
   */
  enqueue(delivery: StoredDelivery): Promise<"stored" | "duplicate">;
  /** Starts a worker that calls `run` for each stored delivery; `run` rejecting fails that attempt. */
  startWorker(
    run: (delivery: StoredDelivery, context: DeliveryRun) => Promise<void>,
    options: InboxWorkerOptions & { onDead?: DeadHandler },
  ): Promise<InboxWorker>;
  /** Latest first: by when each delivery last changed (finished, else started, else received). */
  list(filter?: DeliveryFilter): Promise<DeliverySummary[]>;
  /** One delivery by its key, with its payload and each failed attempt's error. */
  get(key: string): Promise<DeliveryDetail | undefined>;
  /**
   * Runs a completed or dead delivery again (its run has `replayed: true`, its attempts start again
   * from 1); false if there is no such delivery. Rejects if it is still queued, active or retrying.
   */
  replay(key: string): Promise<boolean>;
  /** How many deliveries are in each status now (the metrics' gauge reads it when collected). */
  counts?(): Promise<Record<DeliveryStatus, number>>;
  /**
   * The queue the deliveries are stored in, by OpenTelemetry's messaging words (`messaging.system`,
   * `messaging.destination.name`): the gauge carries them, so that two inboxes' depths are told apart.
   */
  readonly destination?: { readonly system: string; readonly name: string };
  /** Where the workers keep each generation's furthest status, shared by every worker of the inbox. */
  readonly generations?: GenerationStore;
  /** Closes the inbox's own connections and workers (never the connection the user passed). */
  close(): Promise<void>;
}
