import { SlotRing } from "./slot-ring";
import type { ClaimResult, DedupeStore } from "./store";
import { ConfigError, isPositiveNumber, isWholeNumber } from "../options/checks";

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
 * The embedded store: one process, bounded in entries and with a time to live. Keys live in a
 * ring of slots (`SlotRing`), and each slot's state and expiry in typed arrays.
 */
export class MemoryStore implements DedupeStore {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly keys: SlotRing;
  private readonly states: Uint8Array;
  private readonly expiries: Float64Array;

  constructor(options: MemoryStoreOptions = {}) {
    const { maxEntries = DEFAULT_MAX_ENTRIES, ttlMs = DEFAULT_TTL_MS, now = Date.now } = options;
    checkBounds("memoryStore", maxEntries, ttlMs);
    this.maxEntries = maxEntries;
    this.ttlMs = ttlMs;
    this.now = now;
    this.keys = new SlotRing(maxEntries);
    this.states = new Uint8Array(maxEntries);
    this.expiries = new Float64Array(maxEntries);
  }

  /** How many keys are remembered now (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.keys.size;
  }

  claim(key: string): ClaimResult {
    const now = this.now();
    const known = this.keys.slotOf(key);
    if (known !== undefined) {
      if ((this.expiries[known] as number) > now) return this.states[known] === DONE ? "done" : "in-flight";
      this.keys.forget(key, known);
    }
    const slot = this.keys.take(key);
    this.states[slot] = IN_FLIGHT;
    this.expiries[slot] = now + this.ttlMs;
    return "claimed";
  }

  complete(key: string): void {
    const slot = this.keys.slotOf(key);
    if (slot === undefined) return;
    this.states[slot] = DONE;
    this.expiries[slot] = this.now() + this.ttlMs;
  }

  release(key: string): void {
    const slot = this.keys.slotOf(key);
    if (slot !== undefined) this.keys.forget(key, slot);
  }
}

/** Throws a ConfigError that says what to change for bounds that are not usable. */
export function checkBounds(what: string, maxEntries: number, ttlMs: number): void {
  if (!isWholeNumber(maxEntries)) {
    throw new ConfigError(`maxEntries must be a positive integer, got ${String(maxEntries)}`, what);
  }
  if (!isPositiveNumber(ttlMs)) {
    throw new ConfigError(`ttlMs must be a positive number of milliseconds, got ${String(ttlMs)}`, what);
  }
}

/** The default store: keys kept in this process's memory, bounded in count and time. */
export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
