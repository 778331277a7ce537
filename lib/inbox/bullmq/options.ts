import type { BackoffOptions, KeepJobs } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import { hashTagOf, partitionPrefixes } from "./partitions";
import { ConfigError, isObject, isPositiveNumber, isWholeNumber } from "../../options/checks";

/** The settings of `bullmqInbox()`. BullMQ's own words where they mean the same thing. */
export interface BullmqInboxOptions {
  /**
   * The user's ioredis client, created with `maxRetriesPerRequest: null` (BullMQ's workers need it):
   * a `Redis` (one Redis, or Sentinel's `{ sentinels, name }`), or a `Cluster` (whose
   * `redisOptions` hold the setting). The inbox never closes it: it makes its own connections from
   * it (`duplicate()`) and closes those.
   */
  connection: Redis | Cluster;
  /**
   * BullMQ's `prefix`: put before every key of the queue. Default BullMQ's own (`bull`) on one
   * Redis; on a cluster, and with `partitions`, `{imagegen-webhooks}`. On a cluster it must hold a
   * hash tag in braces: BullMQ's scripts touch several keys of a queue at once, and a cluster runs
   * a script only when all of its keys hash to one slot, which a shared `{tag}` makes them do.
   */
  prefix?: string;
  /**
   * How many queues the deliveries are spread over, each under a hash tag of its own chosen by its
   * slot, so that on a cluster of this many primaries each queue sits on its own primary. A
   * delivery's queue follows from its key, so duplicates meet in one queue. A worker takes from
   * every partition (`concurrency` each). Changing it moves new deliveries to new queues: drain the
   * old ones first. Default 1: one queue, the layout of an inbox without partitions.
   */
  partitions?: number;
  /**
   * Redis's `WAIT`: a delivery is acknowledged only once this many replicas have it, within
   * `timeoutMs` (else the edge answers `503` and the provider retries), so that a primary lost
   * right after an acknowledgement does not take the delivery with it. Default none: Redis's
   * replication is asynchronous, and a failover can lose the last writes acknowledged.
   */
  waitForReplicas?: { replicas: number; timeoutMs?: number };
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
/** The default `prefix` on a cluster, and with partitions. */
export const DEFAULT_CLUSTER_PREFIX = "{imagegen-webhooks}";
/** BullMQ's own default `prefix`, which one Redis keeps without partitions. */
const BULLMQ_PREFIX = "bull";
/** The default `waitForReplicas.timeoutMs`. */
export const DEFAULT_WAIT_FOR_REPLICAS_TIMEOUT_MS = 1000;
const MAX_PARTITIONS = 256;
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
  connection: Redis | Cluster;
  /** The connection is a Redis Cluster. */
  cluster: boolean;
  /** Each partition's BullMQ prefix, in partition order (one for an inbox without partitions). */
  prefixes: string[];
  waitForReplicas: { replicas: number; timeoutMs: number } | undefined;
  attempts: number;
  backoff: number | BackoffOptions;
  queueName: string;
  removeOnComplete: KeepJobs | false;
  removeOnFail: KeepJobs | false;
  enqueueTimeoutMs: number;
  lockDurationMs: number;
}

const SECONDS_PER_DAY = 24 * 60 * 60;

/** Checks the options once, at creation (a bad one throws a ConfigError there, never on a delivery). */
export function resolveBullmqInboxOptions(options: BullmqInboxOptions): ResolvedBullmqInboxOptions {
  if (!isObject(options)) throw new ConfigError("options are required ({ connection })", "bullmqInbox");
  const {
    connection,
    attempts = DEFAULT_ATTEMPTS,
    backoff = DEFAULT_BACKOFF,
    queueName = DEFAULT_QUEUE_NAME,
    keep = {},
    enqueueTimeoutMs = DEFAULT_ENQUEUE_TIMEOUT_MS,
    lockDurationMs = DEFAULT_LOCK_DURATION_MS,
    partitions = 1,
  } = options;
  if (typeof connection?.duplicate !== "function") {
    throw new ConfigError("connection must be an ioredis client (new Redis(url, { maxRetriesPerRequest: null }))", "bullmqInbox");
  }
  const cluster = connection.isCluster === true;
  // BullMQ would throw this from the first startWorker(); said here, it fails where the client is made.
  if (cluster && (connection as Cluster).options.redisOptions?.maxRetriesPerRequest !== null) {
    throw new ConfigError(
      "the cluster must be created with redisOptions: { maxRetriesPerRequest: null } (BullMQ's workers block on it)",
      "bullmqInbox",
    );
  }
  if (!cluster && (connection as Redis).options.maxRetriesPerRequest !== null) {
    throw new ConfigError("the connection must be created with maxRetriesPerRequest: null (BullMQ's workers block on it)", "bullmqInbox");
  }
  if (!isWholeNumber(partitions) || partitions > MAX_PARTITIONS) {
    throw new ConfigError(`partitions must be a whole number from 1 to ${MAX_PARTITIONS}, got ${String(partitions)}`, "bullmqInbox");
  }
  const prefix = options.prefix ?? (cluster || partitions > 1 ? DEFAULT_CLUSTER_PREFIX : BULLMQ_PREFIX);
  if (typeof prefix !== "string" || prefix === "")
    throw new ConfigError(`prefix must be a non-empty string, got ${String(prefix)}`, "bullmqInbox");
  if ((cluster || partitions > 1) && !hashTagOf(prefix)) {
    throw new ConfigError(
      `${cluster ? "on a Redis Cluster" : "with partitions"} the prefix must hold a hash tag in braces, ` +
        `e.g. "${DEFAULT_CLUSTER_PREFIX}", got "${prefix}": BullMQ's scripts use several keys of a queue at once, and a cluster ` +
        "runs a script only when all its keys share one slot, which only a {tag} in every key guarantees",
      "bullmqInbox",
    );
  }
  if (!isWholeNumber(attempts)) throw new ConfigError(`attempts must be a whole number ≥ 1, got ${String(attempts)}`, "bullmqInbox");
  if (typeof queueName !== "string" || queueName === "" || queueName.includes(":")) {
    throw new ConfigError(`queueName must be a non-empty string without ':', got ${String(queueName)}`, "bullmqInbox");
  }
  return {
    connection,
    cluster,
    prefixes: partitionPrefixes(prefix, partitions),
    waitForReplicas: waitFor(options.waitForReplicas),
    attempts,
    backoff,
    queueName,
    removeOnComplete: keepFor("keep.completedDays", keep.completedDays ?? DEFAULT_KEEP.completedDays),
    removeOnFail: keepFor("keep.deadDays", keep.deadDays ?? DEFAULT_KEEP.deadDays),
    enqueueTimeoutMs: positiveMs("enqueueTimeoutMs", enqueueTimeoutMs),
    lockDurationMs: positiveMs("lockDurationMs", lockDurationMs),
  };
}

function waitFor(option: BullmqInboxOptions["waitForReplicas"]): ResolvedBullmqInboxOptions["waitForReplicas"] {
  if (option === undefined) return undefined;
  const { replicas, timeoutMs = DEFAULT_WAIT_FOR_REPLICAS_TIMEOUT_MS } = option ?? {};
  if (!isWholeNumber(replicas))
    throw new ConfigError(`waitForReplicas.replicas must be a whole number ≥ 1, got ${String(replicas)}`, "bullmqInbox");
  return { replicas, timeoutMs: positiveMs("waitForReplicas.timeoutMs", timeoutMs) };
}

/** Days as BullMQ's `removeOnComplete`/`removeOnFail` (an age in seconds); `Infinity` keeps them. */
function keepFor(name: string, days: number): KeepJobs | false {
  if (typeof days !== "number" || Number.isNaN(days) || days <= 0)
    throw new ConfigError(`${name} must be a positive number of days, got ${String(days)}`, "bullmqInbox");
  return days === Infinity ? false : { age: Math.round(days * SECONDS_PER_DAY) };
}

function positiveMs(name: string, value: number): number {
  if (!isPositiveNumber(value)) {
    throw new ConfigError(`${name} must be a positive number of milliseconds, got ${String(value)}`, "bullmqInbox");
  }
  return value;
}
