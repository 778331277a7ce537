/**
 * Keys in a fixed ring of slots, oldest overwritten first: the bounded, O(1) core of the memory
 * stores. Each store keeps what it knows of a key in typed arrays indexed by the key's slot.
 *
 * Eviction goes through the ring in insertion order rather than the Map's own order:
 * `map.keys().next()` skips over the holes that deletes leave, which makes it O(size) per insert
 * at steady state in V8 (bench/README.md has the figures). The Map holds each key's slot (a small
 * integer, stored unboxed): no object per key for the garbage collector to trace.
 */
export class SlotRing {
  /** key → the ring slot that holds it. */
  private readonly slots = new Map<string, number>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The key's slot, if it holds one. */
  slotOf(key: string): number | undefined {
    return this.slots.get(key);
  }

  /** A new slot for the key (it must hold none), taken from the oldest key when the ring is full. */
  take(key: string): number {
    // A ring slot holds a key only while the Map points the key at that slot, so that evicting
    // costs one Map call (each one a hash lookup in a table of `capacity` keys).
    const slot = this.next;
    const evicted = this.ring[slot];
    if (evicted !== undefined) this.slots.delete(evicted);
    this.ring[slot] = key;
    this.next = slot + 1 === this.capacity ? 0 : slot + 1;
    this.slots.set(key, slot);
    return slot;
  }

  /** Frees the key's slot (an expired key, about to be taken again, or a released one). */
  forget(key: string, slot: number): void {
    this.slots.delete(key);
    this.ring[slot] = undefined;
  }
}
