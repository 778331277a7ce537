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
  /** Present for a generation `webhooks.generations.track()` was told of (a `TrackingStore`'s). */
  tracked?: TrackedInfo;
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

/** What a generation store adds to `Advance` for a generation that `webhooks.generations.track()` was told of. */
export interface TrackedInfo {
  /** The caller's own JSON object, as `track` was given it. */
  metadata: Record<string, unknown> | undefined;
  /** What the provider's read-back needs that its webhook does not carry (fal.ai's model id). */
  app: string | undefined;
}

/** What `track` records: the caller's metadata and app, and when. */
export interface TrackEntry extends TrackedInfo {
  /** Milliseconds since the epoch. */
  trackedAt: number;
}

/** What a delivery or a read-back that moved a tracked generation leaves for `get` and `wait`. */
export interface HeardOf {
  images: readonly { url: string; id?: string; keptUrl?: string; kept?: { key: string; size: number; contentType: string } }[];
  origin: "webhook" | "reconciled";
  /** Milliseconds since the epoch. */
  at: number;
}

/** A generation as a tracking store last recorded it. */
export interface GenerationRecord {
  /** `undefined`: tracked and not heard of yet. */
  status: TrackedStatus | undefined;
  tracked: TrackEntry | undefined;
  heard: HeardOf | undefined;
}

/**
 * A generation store that also keeps the generations started by the app (`webhooks.generations`):
 * their metadata beside their status, under the same retention, and says when one ends.
 * `advance` answers `tracked` for such a generation.
 */
export interface TrackingStore extends GenerationStore {
  /** Records the generation as tracked (keeping what is known of it): its furthest status so far. */
  track(key: string, entry: TrackEntry): TrackedStatus | undefined | PromiseLike<TrackedStatus | undefined>;
  /** Records what a delivery that moved a tracked generation brought; when `ended`, tells the waiters of `onEnded`. */
  record(key: string, heard: HeardOf, ended: boolean): void | PromiseLike<void>;
  /** The generation as last recorded; `undefined` when never tracked nor heard of (or forgotten). */
  read(key: string): GenerationRecord | undefined | PromiseLike<GenerationRecord | undefined>;
  /**
   * Calls `ended` when `record` says the generation `key` ended, in this process or (Redis) any
   * other; resolves, once listening, to the function that stops it.
   */
  onEnded(key: string, ended: () => void): (() => void) | PromiseLike<() => void>;
}
