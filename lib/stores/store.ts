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
  claim(key: string): ClaimResult | PromiseLike<ClaimResult>;
  complete(key: string): void | PromiseLike<void>;
  release(key: string): void | PromiseLike<void>;
}

export type ClaimResult = "claimed" | "in-flight" | "done";
