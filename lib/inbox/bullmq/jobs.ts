import type { Job, JobState } from "bullmq";
import type { DeliveryAttemptError, DeliveryStatus, DeliverySummary, StoredDelivery } from "../inbox";

/** A job's data in the inbox's queue: the delivery, and the inbox's own bookkeeping. */
export interface DeliveryJobData extends StoredDelivery {
  /** How many times `replay()` ran it again; absent until the first replay. */
  replays?: number;
}

export type DeliveryJob = Job<DeliveryJobData, void, string>;

// BullMQ refuses custom job ids with a ':' (they would read as its own `repeat:<key>:<time>` ids),
// and every key has one (`<provider>:<delivery id>`): the id is the key with ':' and '%' escaped,
// reversibly.
export function jobIdOf(key: string): string {
  return key.replace(/%/g, "%25").replace(/:/g, "%3A");
}

export function keyOf(jobId: string): string {
  return jobId.replace(/%(25|3A)/g, (_, code: string) => (code === "25" ? "%" : ":"));
}

/** The delivery a job holds, without the inbox's own bookkeeping. */
export function deliveryOf(job: DeliveryJob): StoredDelivery {
  const { replays: _replays, ...delivery } = job.data;
  return delivery;
}

/**
 * The inbox's word for where a job is. A job back in the wait list after a failed or interrupted
 * run (a retry with no backoff, a killed worker's delivery) is `retrying`, not `queued`.
 */
export function statusOf(state: JobState | "unknown", job: DeliveryJob): DeliveryStatus | undefined {
  switch (state) {
    case "active":
      return "active";
    case "delayed":
      return "retrying";
    case "completed":
      return "completed";
    case "failed":
      return "dead";
    case "waiting":
    case "prioritized":
    case "waiting-children":
      return job.attemptsStarted > 0 ? "retrying" : "queued";
    default:
      return undefined;
  }
}

/** The BullMQ states a status can come from, for `list({ status })`. */
export function statesOf(status: DeliveryStatus | undefined): JobState[] {
  switch (status) {
    case "queued":
      return ["waiting", "prioritized"];
    case "retrying":
      return ["delayed", "waiting", "prioritized"];
    case "active":
      return ["active"];
    case "completed":
      return ["completed"];
    case "dead":
      return ["failed"];
    default:
      return ["active", "waiting", "prioritized", "delayed", "completed", "failed"];
  }
}

export function summaryOf(job: DeliveryJob, status: DeliveryStatus): DeliverySummary {
  const { key, provider, id, name, receivedAt, replays } = job.data;
  return {
    key,
    provider,
    id,
    name,
    status,
    attempts: job.attemptsStarted,
    receivedAt,
    ...((status === "completed" || status === "dead") &&
      job.finishedOn !== undefined && { finishedAt: new Date(job.finishedOn).toISOString() }),
    // BullMQ keeps the last failure's reason after a later run succeeds: it is an error only while
    // the delivery waits for its retry or is dead.
    ...((status === "retrying" || status === "dead") && job.failedReason && { error: job.failedReason }),
    replayed: (replays ?? 0) > 0,
  };
}

/** When a job last changed: BullMQ orders each of its sets by it, so pages of each merge in order. */
export function lastChangeOf(job: DeliveryJob): number {
  return job.finishedOn ?? job.processedOn ?? job.timestamp;
}

/** One line of a job's log, as the worker writes it for each failed attempt. */
export function attemptLogLine(error: DeliveryAttemptError): string {
  return JSON.stringify({ attempt: error.attempt, message: error.message, at: error.at });
}

/** The failed attempts among a job's log lines (BullMQ keeps only the last failure's reason). */
export function attemptErrorsOf(lines: string[]): DeliveryAttemptError[] {
  const errors: DeliveryAttemptError[] = [];
  for (const line of lines) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof parsed !== "object" || parsed === null) continue;
    const { attempt, message, at } = parsed as Record<string, unknown>;
    if (typeof attempt === "number" && typeof message === "string" && typeof at === "string") errors.push({ attempt, message, at });
  }
  return errors;
}
