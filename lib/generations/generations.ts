// lib/generations/: the generations the app started (`webhooks.generations`): track, get, wait.
// Above the pipeline, like reconcile/: it imports the pipeline's entry and the stores' interface.
import type { EventOrigin, GeneratedImage } from "../events/event-map";
import type { Receiver } from "../pipeline/index";
import type { GenerationRecord, TrackedStatus, TrackingStore } from "../stores/store";

/** The largest `metadata` `track` takes, as JSON in UTF-8 bytes: it is stored beside every tracked generation's status. */
export const MAX_METADATA_BYTES = 16 * 1024;

/** What `webhooks.generations.track()` takes beside the provider and the id. */
export interface TrackOptions {
  /** Your own JSON object (which user, which order): on every event of the generation as `event.metadata`. At most 16 KiB as JSON. */
  metadata?: Record<string, unknown>;
  /** What the provider's read-back needs that its webhook does not carry: fal.ai's model id, e.g. `fal-ai/flux/dev`. */
  app?: string;
}

/** What `webhooks.generations.wait()` takes beside the provider and the id. */
export interface WaitOptions {
  /** Reject with a `GenerationWaitError` (`reason: "timeout"`) when the generation has not ended by then. Default: no limit. */
  timeoutMs?: number;
  /** Reject with a `GenerationWaitError` (`reason: "aborted"`) when this aborts. */
  signal?: AbortSignal;
}

/** A generation as `webhooks.generations.get()` and `wait()` give it: as last known. */
export interface TrackedGeneration {
  provider: string;
  id: string;
  /** `queued` until a webhook or a read-back says more. */
  status: TrackedStatus;
  /** Its images as the last delivery that moved it brought them, with their `keptUrl`s (a generation tracked: `[]` before). */
  images: GeneratedImage[];
  /** As `track` was given it; `undefined` for a generation heard of and not tracked. */
  metadata: Record<string, unknown> | undefined;
  /** ISO 8601: when it was tracked; `undefined` for a generation heard of and not tracked. */
  trackedAt: string | undefined;
  /** ISO 8601: when a webhook or a read-back last moved it (of a tracked generation); `undefined` before. */
  lastHeardAt: string | undefined;
  /** How it was last heard of, in `event.origin`'s words; `undefined` before. */
  origin: EventOrigin | undefined;
}

/** Why `webhooks.generations.wait()` rejected. */
export class GenerationWaitError extends Error {
  constructor(
    message: string,
    /** `timeout`: `timeoutMs` passed; `aborted`: the `signal` aborted; `untracked`: the generation was never tracked. */
    readonly reason: "timeout" | "aborted" | "untracked",
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "GenerationWaitError";
  }
}

/** `webhooks.generations`: the generations the app started. */
export interface Generations {
  /**
   * Makes the generation known before any webhook, right after the provider's create call: its
   * events carry `metadata`, and with `reconcile` it is read back if it has not ended `afterMs`
   * from now. One write to the generation store.
   */
  track(provider: string, id: string, options?: TrackOptions): Promise<void>;
  /** The generation as last known, or `undefined` when never tracked nor heard of (or past the store's retention). */
  get(provider: string, id: string): Promise<TrackedGeneration | undefined>;
  /**
   * Resolves once the generation has ended (`completed` or `failed`), whichever instance heard
   * of it, and at once if it has; rejects with a `GenerationWaitError` on `timeoutMs`, on an
   * aborted `signal`, or for a generation never tracked.
   */
  wait(provider: string, id: string, options?: WaitOptions): Promise<TrackedGeneration>;
}

const ENDED: ReadonlySet<TrackedStatus | undefined> = new Set(["completed", "failed"]);
const MAX_ID_LENGTH = 1024;

/** `webhooks.generations` over one receiver: its generation store, its open generations, its logger. */
export function createGenerations(receiver: Receiver): Generations {
  const warned = new Set<string>();

  const storeFor = (what: string, provider: string, id: string): TrackingStore => {
    if (!receiver.options.providers.has(provider)) {
      const names = [...receiver.options.providers.keys()].join(", ");
      throw new TypeError(`imagegen-webhooks: generations.${what}(): no provider "${String(provider)}" is configured (${names})`);
    }
    if (typeof id !== "string" || id === "" || id.length > MAX_ID_LENGTH) {
      throw new TypeError(
        `imagegen-webhooks: generations.${what}(): the id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
      );
    }
    const store = receiver.options.generations as Partial<TrackingStore> | undefined;
    if (!store) throw new Error(`imagegen-webhooks: generations.${what}() needs a generation store; remove generations: false`);
    if (typeof store.track !== "function" || typeof store.read !== "function" || typeof store.onEnded !== "function") {
      throw new TypeError(
        `imagegen-webhooks: generations.${what}() needs a generation store that tracks (the memory store, redisStore(), or the inbox's): this one has no track(), read() and onEnded()`,
      );
    }
    return store as TrackingStore;
  };

  /** Providers whose tracked generations cannot be read back say so, once each. */
  const warnIfUnrecoverable = (provider: string): void => {
    if (warned.has(provider)) return;
    const resolved = receiver.options.providers.get(provider);
    let why: string | undefined;
    if (!resolved?.provider.fetchGeneration) {
      why = `${provider} has no API to read a generation back${provider === "crazyhorse" ? " (crazyhorse.ai documents its webhook only)" : ""}`;
    } else if (receiver.options.reconcile && !resolved.api) {
      why = `providers.${provider} has no API credential to read it back with`;
    }
    if (why === undefined) return;
    warned.add(provider);
    receiver.options.logger.warn(
      { provider },
      `imagegen-webhooks: generations.track(): ${why}: a tracked ${provider} generation whose webhook is lost is not recovered`,
    );
  };

  const get = async (provider: string, id: string): Promise<TrackedGeneration | undefined> => {
    const store = storeFor("get", provider, id);
    const record = await store.read(`${provider}:${id}`);
    return record && toGeneration(provider, id, record);
  };

  return {
    async track(provider, id, options = {}) {
      const store = storeFor("track", provider, id);
      const metadata = checkMetadata(options.metadata);
      const { app } = options;
      if (app !== undefined && (typeof app !== "string" || app === "" || app.length > MAX_ID_LENGTH)) {
        throw new TypeError(
          `imagegen-webhooks: generations.track(): app must be a non-empty string of at most ${MAX_ID_LENGTH} characters`,
        );
      }
      // Refused now rather than tracked: such a generation could never be read back, and a lost
      // webhook would show only as a read-back failing, later, on every look.
      const needs = receiver.options.providers.get(provider)?.provider.appForReadBack;
      if (app === undefined && needs !== undefined) {
        throw new TypeError(
          `imagegen-webhooks: generations.track("${provider}", id) needs { app }: ${provider}'s read-back needs ${needs}`,
        );
      }
      const trackedAt = Date.now();
      const status = await store.track(`${provider}:${id}`, { metadata, app, trackedAt });
      receiver.openGenerations?.note(provider, id, status ?? "queued", trackedAt, app);
      warnIfUnrecoverable(provider);
    },

    get,

    wait(provider, id, options = {}) {
      const { timeoutMs, signal } = options;
      const key = `${provider}:${id}`;
      let store: TrackingStore;
      try {
        store = storeFor("wait", provider, id);
        if (timeoutMs !== undefined && !(typeof timeoutMs === "number" && timeoutMs >= 0 && timeoutMs <= 2 ** 31 - 1)) {
          throw new TypeError(
            `imagegen-webhooks: generations.wait(): timeoutMs must be a number of milliseconds, got ${String(timeoutMs)}`,
          );
        }
      } catch (err) {
        return Promise.reject(asError(err));
      }
      if (signal?.aborted) return Promise.reject(aborted(key, signal));

      return new Promise<TrackedGeneration>((resolve, reject) => {
        let settled = false;
        let stopListening: (() => void) | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = (): void => settle(() => reject(aborted(key, signal as AbortSignal)));
        /** Settles once, and leaves nothing behind: no timer, no abort listener, no subscription. */
        const settle = (then: () => void): void => {
          if (settled) return;
          settled = true;
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          stopListening?.();
          then();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        if (timeoutMs !== undefined) {
          timer = setTimeout(
            () =>
              settle(() =>
                reject(new GenerationWaitError(`imagegen-webhooks: generation ${key} has not ended within ${timeoutMs} ms`, "timeout")),
              ),
            timeoutMs,
          );
        }
        /** Reads the generation: resolves when it has ended; `then` when it has not. */
        const look = (then?: () => void): void => {
          Promise.resolve(store.read(key)).then(
            (record) => {
              if (settled) return;
              if (record && ENDED.has(record.status)) settle(() => resolve(toGeneration(provider, id, record)));
              else if (!record?.tracked) {
                settle(() =>
                  reject(
                    new GenerationWaitError(
                      `imagegen-webhooks: generation ${key} was never tracked: call generations.track() first`,
                      "untracked",
                    ),
                  ),
                );
              } else then?.();
            },
            (err: unknown) => settle(() => reject(asError(err))),
          );
        };
        // An ended generation answers at once; else listen first, then read again, so that an end
        // recorded between the two is heard, not missed.
        look(() => {
          let listening: (() => void) | PromiseLike<() => void>;
          try {
            listening = store.onEnded(key, () => look());
          } catch (err) {
            settle(() => reject(asError(err)));
            return;
          }
          Promise.resolve(listening).then(
            (stop) => {
              if (settled) return stop();
              stopListening = stop;
              look();
            },
            (err: unknown) => settle(() => reject(asError(err))),
          );
        });
      });
    },
  };
}

/** A copy that is JSON, as the Redis store keeps it, within the size cap. */
function checkMetadata(metadata: unknown): Record<string, unknown> | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new TypeError("imagegen-webhooks: generations.track(): metadata must be a JSON object, e.g. { userId: 'u_1' }");
  }
  let json: string;
  try {
    json = JSON.stringify(metadata);
  } catch (err) {
    throw new TypeError("imagegen-webhooks: generations.track(): metadata must be JSON (it could not be serialized)", { cause: err });
  }
  const bytes = new TextEncoder().encode(json).length;
  if (bytes > MAX_METADATA_BYTES) {
    throw new RangeError(
      `imagegen-webhooks: generations.track(): metadata is ${bytes} bytes as JSON, over the ${MAX_METADATA_BYTES} allowed; keep an id of your record instead`,
    );
  }
  return JSON.parse(json) as Record<string, unknown>;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function aborted(key: string, signal: AbortSignal): GenerationWaitError {
  return new GenerationWaitError(`imagegen-webhooks: the wait for generation ${key} was aborted`, "aborted", { cause: signal.reason });
}

function toGeneration(provider: string, id: string, { status, tracked, heard }: GenerationRecord): TrackedGeneration {
  return {
    provider,
    id,
    status: status ?? "queued",
    images: heard ? heard.images.map((image) => ({ ...image })) : [],
    metadata: tracked?.metadata,
    trackedAt: tracked ? new Date(tracked.trackedAt).toISOString() : undefined,
    lastHeardAt: heard ? new Date(heard.at).toISOString() : undefined,
    origin: heard?.origin,
  };
}
