// lib/stores/: where delivery keys are remembered (the memory store, the Redis store). Stores import
// only this interface and Node's built-ins: the pipeline calls them, never the other way.
/**
 * What the dedupe stage needs of a store. The memory store is the default; any shared store
 * (Redis, a database) that implements these three calls atomically can replace it.
 *
 * - `claim(key)`: atomically mark the key in flight unless it is known; answer what it was
 *   (`claimed` when this call took it).
 * - `complete(key)`: the delivery was handled; remember it as done for the time to live.
 * - `release(key)`: the handler failed; forget the key so that the provider's retry is handled.
 *
 * A call that throws or rejects means the store cannot be reached: the delivery is answered
 * `503` with `Retry-After`, and nothing is emitted.
 */
export interface DedupeStore {
  /** Atomically takes the key unless it is known: `claimed` (go on), `in-flight` or `done`. */
  claim(key: string): ClaimResult | PromiseLike<ClaimResult>;
  /** The delivery was handled: remember its key as done. */
  complete(key: string): void | PromiseLike<void>;
  /** The delivery failed: forget its key, so that the provider's retry is handled. */
  release(key: string): void | PromiseLike<void>;
}

/** What `DedupeStore.claim` found: the key was free and is now taken, is being handled, or was handled. */
export type ClaimResult = "claimed" | "in-flight" | "done";
