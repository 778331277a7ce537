import type { BackoffOptions, KeepJobs } from "bullmq";
import type { Redis } from "ioredis";

/** The settings of `bullmqInbox()`. BullMQ's own words where they mean the same thing. */
export interface BullmqInboxOptions {
  /**
   * The user's ioredis client, created with `maxRetriesPerRequest: null` (BullMQ's workers need it).
   * The inbox never closes it: it makes its own connections from it (`duplicate()`) and closes those.
   */
  connection: Redis;
  /** Runs of a delivery before it is dead (BullMQ's `attempts`, the first run included). Default 8. */
  attempts?: number;
  /**
   * The wait before each retry, in BullMQ's form: a number of milliseconds (fixed), or
   * `{ type: "fixed" | "exponential", delay, jitter? }`. Default exponential from 5 seconds, so
   * that 8 attempts span about ten minutes of a downstream outage.
   */
  backoff?: number | BackoffOptions;
  /** The BullMQ queue (several applications can share one Redis under different names). Default `imagegen-webhooks`. */
  queueName?: string;
  /** How long finished deliveries are kept for history and replay. Default 7 days completed, 30 days dead. */
  keep?: { completedDays?: number; deadDays?: number };
  /**
   * A store that has not answered within this rejects, so that the edge answers `503` and the
   * provider retries, rather than holding the provider's request open. Default 2000.
   */
  enqueueTimeoutMs?: number;
  /**
   * BullMQ's `lockDuration` (and its stalled-job check interval): a worker that dies mid-delivery
   * holds it this long before another worker takes it. A listener that runs longer is fine (the
   * lock is renewed while the process lives). Default 30000.
   */
  lockDurationMs?: number;
}

/** The default `attempts`. */
export const DEFAULT_ATTEMPTS = 8;
/** The default `backoff`. */
export const DEFAULT_BACKOFF: BackoffOptions = { type: "exponential", delay: 5000 };
/** The default `queueName`. */
export const DEFAULT_QUEUE_NAME = "imagegen-webhooks";
/** The default `keep`, in days. */
export const DEFAULT_KEEP = { completedDays: 7, deadDays: 30 } as const;
/** The default `enqueueTimeoutMs`. */
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 2000;
/** The default `lockDurationMs`: BullMQ's own. */
export const DEFAULT_LOCK_DURATION_MS = 30_000;

/** The options once checked, with the BullMQ job options every delivery is added with. */
export interface ResolvedBullmqInboxOptions {
  connection: Redis;
  attempts: number;
  backoff: number | BackoffOptions;
  queueName: string;
  removeOnComplete: KeepJobs | false;
  removeOnFail: KeepJobs | false;
  enqueueTimeoutMs: number;
  lockDurationMs: number;
}

const SECONDS_PER_DAY = 24 * 60 * 60;

/** Checks the options once, at creation (a bad one throws a TypeError there, never on a delivery). */
export function resolveBullmqInboxOptions(options: BullmqInboxOptions): ResolvedBullmqInboxOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("bullmqInbox: options are required ({ connection })");
  const {
    connection,
    attempts = DEFAULT_ATTEMPTS,
    backoff = DEFAULT_BACKOFF,
    queueName = DEFAULT_QUEUE_NAME,
    keep = {},
    enqueueTimeoutMs = DEFAULT_ENQUEUE_TIMEOUT_MS,
    lockDurationMs = DEFAULT_LOCK_DURATION_MS,
  } = options;
  if (typeof connection?.duplicate !== "function") {
    throw new TypeError("bullmqInbox: connection must be an ioredis client (new Redis(url, { maxRetriesPerRequest: null }))");
  }
  // BullMQ would throw this from the first startWorker(); said here, it fails where the client is made.
  if (connection.options.maxRetriesPerRequest !== null) {
    throw new TypeError("bullmqInbox: the connection must be created with maxRetriesPerRequest: null (BullMQ's workers block on it)");
  }
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new TypeError(`bullmqInbox: attempts must be a whole number ≥ 1, got ${String(attempts)}`);
  if (typeof queueName !== "string" || queueName === "" || queueName.includes(":")) {
    throw new TypeError(`bullmqInbox: queueName must be a non-empty string without ':', got ${String(queueName)}`);
  }
  return {
    connection,
    attempts,
    backoff,
    queueName,
    removeOnComplete: keepFor("keep.completedDays", keep.completedDays ?? DEFAULT_KEEP.completedDays),
    removeOnFail: keepFor("keep.deadDays", keep.deadDays ?? DEFAULT_KEEP.deadDays),
    enqueueTimeoutMs: positiveMs("enqueueTimeoutMs", enqueueTimeoutMs),
    lockDurationMs: positiveMs("lockDurationMs", lockDurationMs),
  };
}

/** Days as BullMQ's `removeOnComplete`/`removeOnFail` (an age in seconds); `Infinity` keeps them. */
function keepFor(name: string, days: number): KeepJobs | false {
  if (typeof days !== "number" || Number.isNaN(days) || days <= 0)
    throw new TypeError(`bullmqInbox: ${name} must be a positive number of days, got ${String(days)}`);
  return days === Infinity ? false : { age: Math.round(days * SECONDS_PER_DAY) };
}

function positiveMs(name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`bullmqInbox: ${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}
