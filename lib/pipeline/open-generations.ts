import type { GenerationStatus } from "../events/event-map";

/** A generation heard of and not ended: when to read it back from the provider's API. */
export interface OpenGeneration {
  provider: string;
  id: string;
  /** When to read it back next (ms since the epoch). */
  dueAt: number;
  /** Read-backs that failed in a row, for the backoff. */
  failures: number;
  /** What its provider's read-back needs that its webhook does not carry, as `track` was given it. */
  app?: string;
}

const FINAL: ReadonlySet<GenerationStatus> = new Set(["completed", "failed"]);

/**
 * The generations this process has heard of that have not ended, in the order they were last
 * heard of, bounded: the oldest is forgotten first (it is then recovered only on demand).
 */
export class OpenGenerations {
  private readonly open = new Map<string, OpenGeneration>();

  constructor(
    private readonly afterMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** A delivery of the generation, or its track: open again `afterMs` from now, or ended. */
  note(provider: string, id: string, status: GenerationStatus, now: number, app?: string): void {
    const key = `${provider}:${id}`;
    this.open.delete(key);
    if (FINAL.has(status)) return;
    this.open.set(
      key,
      app === undefined
        ? { provider, id, dueAt: now + this.afterMs, failures: 0 }
        : { provider, id, dueAt: now + this.afterMs, failures: 0, app },
    );
    if (this.open.size > this.maxEntries) {
      const oldest = this.open.keys().next().value;
      if (oldest !== undefined) this.open.delete(oldest);
    }
  }

  forget(provider: string, id: string): void {
    this.open.delete(`${provider}:${id}`);
  }

  /** The generations due to be read back now. */
  due(now: number): OpenGeneration[] {
    const due: OpenGeneration[] = [];
    for (const entry of this.open.values()) if (entry.dueAt <= now) due.push(entry);
    return due;
  }
}
