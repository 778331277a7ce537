import { Queue } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import type { Inbox } from "../inbox";
import { enqueue } from "./enqueue";
import { counts, get, list, replay } from "./history";
import type { DeliveryJobData } from "./jobs";
import { resolveBullmqInboxOptions, type BullmqInboxOptions } from "./options";
import type { BullmqInboxState, Partition } from "./state";
import { startWorker } from "./worker";
import { RedisStore } from "../../stores/redis-store";

/** What `bullmqInbox()` returns: the inbox, and the BullMQ queue it stores deliveries in. */
export interface BullmqInbox extends Inbox {
  /**
   * The inbox's BullMQ queue, for reading: a dashboard such as bull-board
   * (`new BullMQAdapter(inbox.queue, { readOnlyMode: true })`), or metrics such as
   * `queue.getJobCounts()`. Add, retry or remove jobs only through the inbox
   * (`webhooks.deliveries.replay()`): a job changed behind its back loses what the inbox records
   * (replays, each attempt's error). The inbox closes it.
   */
  readonly queue: Queue<DeliveryJobData, void, string>;
  /**
   * Every queue of the inbox, in partition order (`queue` is the first): one for an inbox without
   * `partitions`. A dashboard shows them all (`inbox.queues.map((q) => new BullMQAdapter(q, …))`).
   */
  readonly queues: readonly Queue<DeliveryJobData, void, string>[];
}

/**
 * The durable inbox over BullMQ: `createWebhooks({ inbox: bullmqInbox({ connection }) })`. Each
 * delivery is a job whose id is its key; a worker's run of it is retried by BullMQ with backoff.
 */
export function bullmqInbox(options: BullmqInboxOptions): BullmqInbox {
  const resolved = resolveBullmqInboxOptions(options);
  const producer = producerOf(resolved.connection);
  // Redis going away is reported by the calls that fail; ioredis would print each reconnection.
  producer.on("error", () => {});
  const partitions: Partition[] = resolved.prefixes.map((prefix) => {
    const queue = new Queue<DeliveryJobData, void, string>(resolved.queueName, { connection: producer, prefix });
    queue.on("error", () => {});
    const partition: Partition = { queue, prefix, batch: [], started: false };
    queue.waitUntilReady().then(
      () => (partition.started = true),
      () => {},
    );
    return partition;
  });
  const state: BullmqInboxState = { options: resolved, partitions, producer, workers: new Set() };
  const queues = partitions.map((partition) => partition.queue);

  // The workers order generations in the inbox's own Redis, so that every worker shares one order.
  const generations = new RedisStore(producer, { keyPrefix: `imagegen-webhooks:${resolved.queueName}:` });
  let closing: Promise<void> | undefined;
  return {
    generations,
    queue: queues[0] as Queue<DeliveryJobData, void, string>,
    queues,
    // The conventions name no BullMQ among their messaging systems, and take a library's own word then.
    destination: { system: "bullmq", name: resolved.queueName },
    enqueue: (delivery) => enqueue(state, delivery),
    startWorker: (run, workerOptions) => {
      if (closing) return Promise.reject(new Error("imagegen-webhooks: the inbox is closed"));
      return startWorker(state, run, workerOptions);
    },
    list: (filter) => list(state, filter),
    get: (key) => get(state, key),
    replay: (key) => replay(state, key),
    counts: () => counts(state),
    close: () => (closing ??= close(state)),
  };
}

async function close(state: BullmqInboxState): Promise<void> {
  // Workers first: their active runs finish (and are recorded) before the queue goes.
  await Promise.all([...state.workers].map((worker) => worker.close()));
  state.workers.clear();
  // A queue whose connection never reached Redis is not closed, only its connection: closing it
  // would leave its pending start-up to end in an error that nothing listens for any more (BullMQ
  // emits it on a connection object it has stripped of listeners: an uncaught error in the host app).
  await Promise.all(state.partitions.filter((partition) => partition.started).map((partition) => partition.queue.close()));
  // BullMQ leaves a connection it was given open; this one is the inbox's own.
  state.producer.disconnect();
}

/**
 * The inbox's own connection. The edge's answer waits on the add: with no offline queue, a command
 * while Redis is away fails at once instead of waiting for a reconnection (enqueueTimeoutMs covers
 * a Redis that hangs). A cluster takes its nodes' settings under `redisOptions`.
 */
function producerOf(connection: Redis | Cluster): Redis | Cluster {
  if (connection.isCluster) {
    const cluster = connection as Cluster;
    return cluster.duplicate([], {
      enableOfflineQueue: false,
      redisOptions: { ...cluster.options.redisOptions, maxRetriesPerRequest: 1 },
    });
  }
  return (connection as Redis).duplicate({ enableOfflineQueue: false, maxRetriesPerRequest: 1 });
}
