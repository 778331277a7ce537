import { Job, type IRedisTransaction } from "bullmq";
import type { StoredDelivery } from "../inbox";
import { jobIdOf, type DeliveryJobData } from "./jobs";
import type { BullmqInboxState, PendingAdd } from "./state";

const MAX_ATTEMPT_ERRORS = 100;

/** The delivery could not be stored: Redis is unreachable or did not answer in time. The edge answers `503`. */
export class InboxUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InboxUnavailableError";
  }
}

/**
 * Adds the delivery's job under its key. BullMQ answers a duplicate id exactly as a new one (the id,
 * and a `duplicated` event on the stream; its addStandardJob script), so the key's existence is read
 * in the same MULTI as the add: nothing runs between the two, so of two instances adding one key at
 * once exactly one sees it absent. One round trip, as `Queue.addBulk` does it. Rejects with
 * `InboxUnavailableError` when Redis has not answered within `enqueueTimeoutMs`.
 */
export function enqueue(state: BullmqInboxState, delivery: StoredDelivery): Promise<"stored" | "duplicate"> {
  return new Promise((resolve, reject) => {
    if (state.batch.length === 0) setImmediate(() => void flush(state));
    state.batch.push({ delivery, resolve, reject });
  });
}

/**
 * Deliveries whose bodies ended in the same turn of the event loop go to Redis in one MULTI: one
 * write and one transaction for all of them instead of one each (an ioredis MULTI is costly to
 * build, and Redis reads them all at once). The wait is the rest of the current turn. The batch has
 * one deadline, not one timer per delivery: they were all sent in the same write. A late answer
 * settles nothing: each `enqueue()` promise was already rejected by the deadline.
 */
async function flush(state: BullmqInboxState): Promise<void> {
  const batch = state.batch.splice(0);
  const { queue, options } = state;
  const timer = setTimeout(() => {
    const error = new InboxUnavailableError(
      `imagegen-webhooks: the inbox did not store the delivery within ${options.enqueueTimeoutMs} ms (enqueueTimeoutMs)`,
    );
    for (const pending of batch) pending.reject(error);
  }, options.enqueueTimeoutMs);
  let results: [Error | null, unknown][] | null;
  try {
    const client = await queue.client;
    // The connection is ioredis (the option's type), so the transaction is an ioredis MULTI: it has
    // every command, though BullMQ's interface names only the ones BullMQ uses.
    const multi = client.multi() as IRedisTransaction & { exists(key: string): unknown };
    for (const { delivery } of batch) {
      const jobId = jobIdOf(delivery.key);
      const job = new Job<DeliveryJobData, void, string>(
        queue,
        delivery.name,
        delivery,
        {
          jobId,
          attempts: options.attempts,
          backoff: options.backoff,
          removeOnComplete: options.removeOnComplete,
          removeOnFail: options.removeOnFail,
          // The log holds each failed attempt's error: a delivery replayed again and again keeps its latest.
          keepLogs: MAX_ATTEMPT_ERRORS,
        },
        jobId,
      );
      multi.exists(queue.toKey(jobId));
      // Queues the add script on the MULTI synchronously; its promise holds nothing (the answer is exec's).
      void job.addJob(multi);
    }
    results = await multi.exec();
  } catch (err) {
    const error = new InboxUnavailableError(`imagegen-webhooks: the inbox could not store the delivery: ${messageOf(err)}`, { cause: err });
    for (const pending of batch) pending.reject(error);
    return;
  } finally {
    clearTimeout(timer);
  }
  batch.forEach((pending, i) => settle(pending, results?.[2 * i], results?.[2 * i + 1]));
}

function settle(pending: PendingAdd, existed: [Error | null, unknown] | undefined, added: [Error | null, unknown] | undefined): void {
  if (!existed || !added) return pending.reject(new Error("imagegen-webhooks: the inbox's MULTI returned no answer for the add"));
  if (existed[0]) return pending.reject(existed[0]);
  if (added[0]) return pending.reject(added[0]);
  // BullMQ's scripts answer a negative code for an error (a missing parent, which we never set).
  if (typeof added[1] === "number" && added[1] < 0)
    return pending.reject(new Error(`imagegen-webhooks: BullMQ refused the job (code ${added[1]})`));
  pending.resolve(existed[1] === 0 ? "stored" : "duplicate");
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
