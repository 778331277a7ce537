import type { Queue, Worker } from "bullmq";
import type { Cluster, Redis } from "ioredis";
import type { StoredDelivery } from "../inbox";
import type { DeliveryJobData } from "./jobs";
import type { ResolvedBullmqInboxOptions } from "./options";

/** A delivery waiting for the next MULTI (`enqueue.ts`), with the settlement of its `enqueue()`. */
export interface PendingAdd {
  delivery: StoredDelivery;
  resolve(result: "stored" | "duplicate"): void;
  reject(error: unknown): void;
}

/** One of the inbox's queues: all of it under one hash tag, so on one shard of a cluster. */
export interface Partition {
  /** The queue, over the inbox's `producer`. */
  readonly queue: Queue<DeliveryJobData, void, string>;
  /** Its BullMQ prefix. */
  readonly prefix: string;
  /** Deliveries to add in the partition's next MULTI (`enqueue.ts`): a MULTI on a cluster stays in one slot. */
  readonly batch: PendingAdd[];
  /** The queue's connection reached Redis once (its start-up is over). */
  started: boolean;
}

/** What the inbox's functions share: made once by `bullmqInbox()`. */
export interface BullmqInboxState {
  readonly options: ResolvedBullmqInboxOptions;
  /** The queues, in partition order (`partitions.ts` says which holds a delivery). */
  readonly partitions: Partition[];
  /** The inbox's own connection for adding and reading jobs: fails fast while Redis is away. */
  readonly producer: Redis | Cluster;
  /** The workers started and not yet closed, for `close()`. */
  readonly workers: Set<Worker<DeliveryJobData, void, string>>;
}
