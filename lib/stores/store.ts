// lib/stores/: where delivery keys are remembered (the memory store, the Redis store). The pipeline
// calls the stores; they sit in the lowest layer (eslint.config.mjs's LAYERS, checked by import-x/no-restricted-paths).
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

/** The statuses a generation moves through, in order; `completed` and `failed` both end it. */
export type TrackedStatus = "queued" | "processing" | "progress" | "completed" | "failed";

/** What `GenerationStore.advance` found. */
export interface Advance {
  /** The delivery moved the generation forward (or is a retry or replay of the delivery that did). */
  moved: boolean;
  /** The generation's status before the move; when it did not move, the status it stays at. Undefined: first heard of. */
  previous: TrackedStatus | undefined;
}

/**
 * Where each generation's furthest status is remembered, so that its `generation.*` events only
 * move forward. The memory store's kind keeps it in memory, the Redis store's in Redis.
 */
export interface GenerationStore {
  /**
   * Atomically: moves the generation `key` to `status` if that is ahead of what is known (or the
   * same non-final status with more images), recording `delivery` as the one that moved it. The
   * same `delivery` again (a retry after a listener failed, a replay) counts as moving it again.
   */
  advance(key: string, status: TrackedStatus, images: number, delivery: string): Advance | PromiseLike<Advance>;
}

/** A generation store shared by several instances, which share the read-backs of open generations too. */
export interface LeasingStore {
  /** Takes `key` for `ms` unless another holder has it: true when this call took it. */
  lease(key: string, ms: number): boolean | PromiseLike<boolean>;
  /** The generation's furthest status, as `advance` recorded it (another instance may have). */
  peek(key: string): TrackedStatus | undefined | PromiseLike<TrackedStatus | undefined>;
}
