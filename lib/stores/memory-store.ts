import type { ClaimResult, DedupeStore } from "./store";

/** The bounds of `memoryStore()`. */
export interface MemoryStoreOptions {
  /** At most this many keys are kept; past it the oldest claim is forgotten. Default 50,000. */
  maxEntries?: number;
  /** How long a key is remembered after its last change. Default 24 hours. */
  ttlMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

const IN_FLIGHT = 0;
const DONE = 1;

const DEFAULT_MAX_ENTRIES = 50_000;
const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded store: one process, bounded in entries and with a time to live.
 *
 * Eviction goes through a ring of keys in claim order rather than the Map's own order:
 * `map.keys().next()` skips over the holes that deletes leave, which makes it O(size) per insert
 * at steady state in V8 (bench/README.md has the figures). The ring is O(1).
 *
 * The Map holds each key's ring slot (a small integer, stored unboxed), and the slot's state and
 * expiry live in typed arrays: no object per key for the garbage collector to trace, a visible
 * share of a claim and a complete when each key had an object.
 */
export class MemoryStore implements DedupeStore {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly now: () => number;
  /** key → the ring slot that holds it. */
  private readonly slots = new Map<string, number>();
  private readonly ring: (string | undefined)[];
  private readonly states: Uint8Array;
  private readonly expiries: Float64Array;
  private next = 0;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = DEFAULT_MAX_ENTRIES, ttlMs = DEFAULT_TTL_MS, now = Date.now } = options;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`memoryStore: maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) {
      throw new TypeError(`memoryStore: ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`);
    }
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
    this.now = now;
    this.ring = new Array<string | undefined>(maxEntries);
    this.states = new Uint8Array(maxEntries);
    this.expiries = new Float64Array(maxEntries);
  }

  /** How many keys are remembered now (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.slots.size;
  }

  claim(key: string): ClaimResult {
    const now = this.now();
    const known = this.slots.get(key);
    if (known !== undefined) {
      if ((this.expiries[known] as number) > now) return this.states[known] === DONE ? "done" : "in-flight";
      this.ring[known] = undefined;
    }

    // A ring slot holds a key only while the Map points the key at that slot, so that evicting
    // costs one Map call (each one a hash lookup in a table of maxEntries keys).
    const slot = this.next;
    const evicted = this.ring[slot];
    if (evicted !== undefined) this.slots.delete(evicted);
    this.ring[slot] = key;
    this.next = slot + 1 === this.maxEntries ? 0 : slot + 1;
    this.slots.set(key, slot);
    this.states[slot] = IN_FLIGHT;
    this.expiries[slot] = now + this.ttlMs;
    return "claimed";
  }

  complete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.states[slot] = DONE;
    this.expiries[slot] = this.now() + this.ttlMs;
  }

  release(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.ring[slot] = undefined;
  }
}

/** The default store: keys kept in this process's memory, bounded in count and time. */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
