import { checkBounds } from "./memory-store";
import { movesForward, STATUS_CODES, STATUS_OF_CODE } from "./generation-order";
import { SlotRing } from "./slot-ring";
import type { Advance, GenerationRecord, HeardOf, TrackedStatus, TrackEntry, TrackingStore } from "./store";

/**
 * What a slot of a tracked generation keeps beside its status. Its images as JSON text, as Redis
 * keeps them: one flat string is far cheaper for the garbage collector to keep than the objects.
 */
interface Tracked {
  entry: TrackEntry;
  heard: { origin: HeardOf["origin"]; at: number; images: string } | undefined;
}

/** The bounds of the in-memory generation store. */
export interface MemoryGenerationsOptions {
  /** At most this many generations are remembered; past it the one first heard of longest ago is forgotten. Default 50,000. */
  maxEntries?: number;
  /** How long a generation is remembered after its last move. Default 24 hours. */
  ttlMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * Each generation's furthest status, in this process's memory: bounded in count and time like the
 * memory store. A generation forgotten (evicted or expired) is new again: its next delivery moves
 * it, whatever its status.
 */
export class MemoryGenerations implements TrackingStore {
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly keys: SlotRing;
  private readonly codes: Uint8Array;
  private readonly previous: Uint8Array;
  private readonly images: Uint32Array;
  private readonly expiries: Float64Array;
  /** The delivery that made each slot's last move: its retry moves it again. */
  private readonly movedBy: (string | undefined)[];
  /** The tracked generations' metadata and last news, by slot: nothing for one never tracked. */
  private readonly tracked: (Tracked | undefined)[];
  /** Who waits for which generation to end (`onEnded`). */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(options: MemoryGenerationsOptions = {}) {
    const { maxEntries = 50_000, ttlMs = 24 * 60 * 60 * 1000, now = Date.now } = options;
    checkBounds("memoryGenerations", maxEntries, ttlMs);
    this.now = now;
    this.ttlMs = ttlMs;
    this.keys = new SlotRing(maxEntries);
    this.codes = new Uint8Array(maxEntries);
    this.previous = new Uint8Array(maxEntries);
    this.images = new Uint32Array(maxEntries);
    this.expiries = new Float64Array(maxEntries);
    this.movedBy = new Array<string | undefined>(maxEntries);
    this.tracked = new Array<Tracked | undefined>(maxEntries);
  }

  advance(key: string, status: TrackedStatus, images: number, delivery: string): Advance {
    const now = this.now();
    const code = STATUS_CODES[status];
    let slot = this.liveSlot(key, now);
    if (slot === undefined) {
      slot = this.keys.take(key);
      this.tracked[slot] = undefined;
      this.save(slot, code, 0, images, delivery, now);
      return { moved: true, previous: undefined };
    }
    const knownCode = this.codes[slot] as number;
    const tracked = this.tracked[slot];
    let advance: Advance;
    if (this.movedBy[slot] === delivery) advance = { moved: true, previous: STATUS_OF_CODE[this.previous[slot] as number] };
    else if (!movesForward(code, images, knownCode, this.images[slot] as number))
      advance = { moved: false, previous: STATUS_OF_CODE[knownCode] };
    else {
      this.save(slot, code, knownCode, images, delivery, now);
      advance = { moved: true, previous: STATUS_OF_CODE[knownCode] };
    }
    if (tracked) advance.tracked = { metadata: tracked.entry.metadata, app: tracked.entry.app };
    return advance;
  }

  /** Records the generation as tracked, keeping its status if it was heard of already (`TrackingStore`). */
  track(key: string, entry: TrackEntry): TrackedStatus | undefined {
    const now = this.now();
    let slot = this.liveSlot(key, now);
    if (slot === undefined) {
      slot = this.keys.take(key);
      // Code 0: known of, not heard of; the first delivery moves it whatever its status.
      this.save(slot, 0, 0, 0, undefined, now);
      this.tracked[slot] = { entry, heard: undefined };
      return undefined;
    }
    const known = this.tracked[slot];
    this.tracked[slot] = { entry, heard: known?.heard };
    this.expiries[slot] = now + this.ttlMs;
    return STATUS_OF_CODE[this.codes[slot] as number];
  }

  /** What moved a tracked generation, for `get`; tells the waiters when it ended (`TrackingStore`). */
  record(key: string, heard: HeardOf, ended: boolean): void {
    const slot = this.liveSlot(key, this.now());
    const tracked = slot === undefined ? undefined : this.tracked[slot];
    if (tracked) tracked.heard = { origin: heard.origin, at: heard.at, images: JSON.stringify(heard.images) };
    if (!ended) return;
    const waiting = this.waiters.get(key);
    if (waiting) for (const ended of [...waiting]) ended();
  }

  /** The generation as last recorded (`TrackingStore`). */
  read(key: string): GenerationRecord | undefined {
    const slot = this.liveSlot(key, this.now());
    if (slot === undefined) return undefined;
    const tracked = this.tracked[slot];
    const heard = tracked?.heard && {
      origin: tracked.heard.origin,
      at: tracked.heard.at,
      images: JSON.parse(tracked.heard.images) as HeardOf["images"],
    };
    return { status: STATUS_OF_CODE[this.codes[slot] as number], tracked: tracked?.entry, heard };
  }

  /** Calls `ended` when `record` says the generation ended (`TrackingStore`). */
  onEnded(key: string, ended: () => void): () => void {
    let waiting = this.waiters.get(key);
    if (!waiting) this.waiters.set(key, (waiting = new Set()));
    waiting.add(ended);
    return () => {
      waiting.delete(ended);
      if (waiting.size === 0 && this.waiters.get(key) === waiting) this.waiters.delete(key);
    };
  }

  /** How many generations have someone waiting for them to end. */
  get waitedFor(): number {
    return this.waiters.size;
  }

  /** The key's slot unless it expired (then it is forgotten). */
  private liveSlot(key: string, now: number): number | undefined {
    const slot = this.keys.slotOf(key);
    if (slot === undefined || (this.expiries[slot] as number) > now) return slot;
    this.keys.forget(key, slot);
    this.tracked[slot] = undefined;
    return undefined;
  }

  private save(slot: number, code: number, previous: number, images: number, delivery: string | undefined, now: number): void {
    this.codes[slot] = code;
    this.previous[slot] = previous;
    this.images[slot] = images;
    this.movedBy[slot] = delivery;
    this.expiries[slot] = now + this.ttlMs;
  }
}
