import type { ClaimResult, DedupeStore } from "./store";

export interface MemoryStoreOptions {
  /** At most this many keys are kept; past it the oldest claim is forgotten. Default 50,000. */
  maxEntries?: number;
  /** How long a key is remembered after its last change. Default 24 hours. */
  ttlMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Entry {
  state: "in-flight" | "done";
  expiresAt: number;
  /** The ring slot that holds this key, so that an overwritten slot only evicts its own entry. */
  slot: number;
}

export const DEFAULT_MAX_ENTRIES = 50_000;
export const DEFAULT_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * The embedded store: one process, bounded in entries and with a time to live.
 *
 * Eviction goes through a ring of keys in claim order rather than the Map's own order:
 * `map.keys().next()` skips over the holes that deletes leave, which V8 was measured to make
 * O(size) per insert at steady state (6.5 µs at 10k entries, 61 µs at 100k). The ring is O(1).
 */
export class MemoryStore implements DedupeStore {
  readonly maxEntries: number;
  readonly ttlMs: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private readonly ring: (string | undefined)[];
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
  }

  /** How many keys are remembered now (expired ones included until they are touched or evicted). */
  get size(): number {
    return this.entries.size;
  }

  claim(key: string): ClaimResult {
    const now = this.now();
    const known = this.entries.get(key);
    if (known && known.expiresAt > now) return known.state;

    const slot = this.next;
    const evicted = this.ring[slot];
    if (evicted !== undefined && this.entries.get(evicted)?.slot === slot) this.entries.delete(evicted);
    this.ring[slot] = key;
    this.next = slot + 1 === this.maxEntries ? 0 : slot + 1;
    this.entries.set(key, { state: "in-flight", expiresAt: now + this.ttlMs, slot });
    return "claimed";
  }

  complete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.state = "done";
    entry.expiresAt = this.now() + this.ttlMs;
  }

  release(key: string): void {
    this.entries.delete(key);
  }
}

export function memoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options);
}
