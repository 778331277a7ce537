import { checkBounds } from "./memory-store";
import { movesForward, STATUS_CODES, STATUS_OF_CODE } from "./generation-order";
import { SlotRing } from "./slot-ring";
import type { Advance, GenerationStore, TrackedStatus } from "./store";

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
export class MemoryGenerations implements GenerationStore {
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly keys: SlotRing;
  private readonly codes: Uint8Array;
  private readonly previous: Uint8Array;
  private readonly images: Uint32Array;
  private readonly expiries: Float64Array;
  /** The delivery that made each slot's last move: its retry moves it again. */
  private readonly movedBy: (string | undefined)[];

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
  }

  advance(key: string, status: TrackedStatus, images: number, delivery: string): Advance {
    const now = this.now();
    const code = STATUS_CODES[status];
    let slot = this.keys.slotOf(key);
    if (slot !== undefined && (this.expiries[slot] as number) <= now) {
      this.keys.forget(key, slot);
      slot = undefined;
    }
    if (slot === undefined) {
      slot = this.keys.take(key);
      this.record(slot, code, 0, images, delivery, now);
      return { moved: true, previous: undefined };
    }
    const knownCode = this.codes[slot] as number;
    if (this.movedBy[slot] === delivery) return { moved: true, previous: STATUS_OF_CODE[this.previous[slot] as number] };
    if (!movesForward(code, images, knownCode, this.images[slot] as number)) return { moved: false, previous: STATUS_OF_CODE[knownCode] };
    this.record(slot, code, knownCode, images, delivery, now);
    return { moved: true, previous: STATUS_OF_CODE[knownCode] };
  }

  private record(slot: number, code: number, previous: number, images: number, delivery: string, now: number): void {
    this.codes[slot] = code;
    this.previous[slot] = previous;
    this.images[slot] = images;
    this.movedBy[slot] = delivery;
    this.expiries[slot] = now + this.ttlMs;
  }
}
