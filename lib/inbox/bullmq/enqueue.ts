import { Job, type IRedisTransaction, type RedisClient } from "bullmq";
import type { StoredDelivery } from "../inbox";
import { jobIdOf, type DeliveryJobData } from "./jobs";
import { partitionOf } from "./partitions";
import type { BullmqInboxState, Partition, PendingAdd } from "./state";
import { InboxUnavailableError } from "../../errors/inbox-unavailable-error";

export { InboxUnavailableError };

const MAX_ATTEMPT_ERRORS = 100;

/**
 * Adds the delivery's job under its key. BullMQ answers a duplicate id exactly as a new one (the id,
 * and a `duplicated` event on the stream; its addStandardJob script), so the key's existence is read
 * in the same MULTI as the add: nothing runs between the two, so of two instances adding one key at
 * once exactly one sees it absent. One round trip, as `Queue.addBulk` does it. Rejects with
 * `InboxUnavailableError` when Redis has not answered within `enqueueTimeoutMs`.
 */
export function enqueue(state: BullmqInboxState, delivery: StoredDelivery): Promise<"stored" | "duplicate"> {
  const partition = state.partitions[partitionOf(delivery.key, state.partitions.length)] as Partition;
  return new Promise((resolve, reject) => {
    if (partition.batch.length === 0) setImmediate(() => void flush(state, partition));
    partition.batch.push({ delivery, resolve, reject });
  });
}

/**
 * Deliveries whose bodies ended in the same turn of the event loop go to Redis in one MULTI: one
 * write and one transaction for all of them instead of one each (an ioredis MULTI is costly to
 * build, and Redis reads them all at once). The wait is the rest of the current turn. The batch has
 * one deadline, not one timer per delivery: they were all sent in the same write. A late answer
 * settles nothing: each `enqueue()` promise was already rejected by the deadline.
 */
async function flush(state: BullmqInboxState, partition: Partition): Promise<void> {
  const batch = partition.batch.splice(0);
  const { options } = state;
  const { queue } = partition;
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
    if (options.waitForReplicas) await waitForReplicas(client, queue.toKey(""), options.waitForReplicas);
  } catch (err) {
    const error = new InboxUnavailableError(`imagegen-webhooks: the inbox could not store the delivery: ${messageOf(err)}`, { cause: err });
    for (const pending of batch) pending.reject(error);
    return;
  } finally {
    clearTimeout(timer);
  }
  batch.forEach((pending, i) => settle(pending, results?.[2 * i], results?.[2 * i + 1]));
}

/**
 * Redis's WAIT after the MULTI, on the same connection (WAIT counts the replicas that have this
 * connection's writes). On a cluster, a key of the partition's slot sends it to the primary that
 * ran the MULTI: a pipeline goes to its keys' node, and ioredis keeps one connection per node.
 */
async function waitForReplicas(
  client: RedisClient,
  partitionKey: string,
  { replicas, timeoutMs }: { replicas: number; timeoutMs: number },
): Promise<void> {
  const answers = await (client as unknown as Pipelined).pipeline().exists(partitionKey).wait(replicas, timeoutMs).exec();
  const [, waited] = answers ?? [];
  if (!waited || waited[0]) throw waited?.[0] ?? new Error("no answer to WAIT");
  if (Number(waited[1]) < replicas) {
    throw new Error(`${String(waited[1])} of ${replicas} replicas had it within ${timeoutMs} ms (waitForReplicas)`);
  }
}

/** The part of an ioredis client (a `Redis` or a `Cluster`) that WAIT takes. */
interface Pipelined {
  pipeline(): {
    exists(key: string): { wait(replicas: number, timeoutMs: number): { exec(): Promise<[Error | null, unknown][] | null> } };
  };
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
