import type { Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { StoredDelivery } from "../inbox";
import type { DeliveryJobData } from "./jobs";
import type { ResolvedBullmqInboxOptions } from "./options";

/** A delivery waiting for the next MULTI (`enqueue.ts`), with the settlement of its `enqueue()`. */
export interface PendingAdd {
  delivery: StoredDelivery;
  resolve(result: "stored" | "duplicate"): void;
  reject(error: unknown): void;
}

/** What the inbox's functions share: made once by `bullmqInbox()`. */
export interface BullmqInboxState {
  readonly options: ResolvedBullmqInboxOptions;
  /** The queue, over `producer`. */
  readonly queue: Queue<DeliveryJobData, void, string>;
  /** The inbox's own connection for adding and reading jobs: fails fast while Redis is away. */
  readonly producer: Redis;
  /** The workers started and not yet closed, for `close()`. */
  readonly workers: Set<Worker<DeliveryJobData, void, string>>;
  /** Deliveries to add in the next MULTI (`enqueue.ts`). */
  readonly batch: PendingAdd[];
  /** The queue's connection reached Redis once (its start-up is over). */
  started: boolean;
}
