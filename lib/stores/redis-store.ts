import { createHash, randomUUID } from "node:crypto";
import { STATUS_CODES, STATUS_OF_CODE } from "./generation-order";
import { RedisEndedChannel, type RedisSubscriberSource } from "./redis-ended-channel";
import type {
  Advance,
  ClaimResult,
  DedupeStore,
  GenerationRecord,
  HeardOf,
  LeasingStore,
  TrackedStatus,
  TrackEntry,
  TrackingStore,
} from "./store";
import { ConfigError, isPositiveNumber } from "../options/checks";
import { RedisTimeoutError } from "../errors/redis-timeout-error";

/**
 * The calls the store makes, typed by shape rather than imported from ioredis, so that the built
 * package never loads ioredis: an ioredis `Redis` or `Cluster` fits, and so does any wrapper of
 * another client that runs Lua with these two signatures.
 */
export interface RedisScriptClient {
  /** Runs a script Redis has cached, by its SHA1 (`EVALSHA`). */
  evalsha(sha1: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
  /** Runs a script from its source (`EVAL`, which also caches it), when Redis answers that it has not cached it. */
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** The settings of `redisStore()`: key names and timings. */
export interface RedisStoreOptions {
  /** Put before every key, so that several applications can share one Redis. Default `imagegen-webhooks:`. */
  keyPrefix?: string;
  /** How long a handled delivery is remembered. Default 24 hours, as in the memory store. */
  ttlMs?: number;
  /**
   * How long a claim holds its key while the listeners run. Past it the key is free again, so
   * that an instance that crashed mid-delivery does not block the provider's retries for a day.
   * Keep it a few times `handlerTimeoutMs`. Default 60 seconds.
   */
  inFlightTtlMs?: number;
  /**
   * A call to Redis that has not answered within this is treated as Redis being unreachable
   * (the delivery is answered `503`), whatever the client's own retry and queue settings.
   * Default 1000.
   */
  commandTimeoutMs?: number;
}

/** The default `keyPrefix`. */
export const DEFAULT_KEY_PREFIX = "imagegen-webhooks:";
/** The default `ttlMs`: 24 hours. */
export const DEFAULT_REDIS_TTL_MS = 24 * 60 * 60 * 1000;
/** The default `inFlightTtlMs`: 60 seconds. */
export const DEFAULT_IN_FLIGHT_TTL_MS = 60_000;
/** The default `commandTimeoutMs`: 1 second. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000;

const DONE = "done";

// One round trip and atomic: two instances that claim the same key at once cannot both win.
// An in-flight key holds its claim's token, a handled one the word "done".
const CLAIM = `
local state = redis.call('GET', KEYS[1])
if state then
  if state == '${DONE}' then return '${DONE}' end
  return 'in-flight'
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'claimed'`;

// Only the claim that holds the key may free it: an instance whose claim expired must not free
// the key that another instance has claimed since.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// Unconditional on purpose: "handled" is a fact about the delivery, not about a claim. Recording
// it over another instance's later claim can only prevent a second handling, never cause one.
const COMPLETE = `return redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[1])`;

// One generation's furthest status, atomically: of two instances that get `completed` and
// `processing` of one generation at once, the generation ends at `completed` whichever runs first.
// The same delivery again (a retry, a replay) moves it again. Codes and ranks: generation-order.ts.
const ADVANCE = `
local code = tonumber(ARGV[1])
local images = tonumber(ARGV[2])
local known = redis.call('HMGET', KEYS[1], 'code', 'images', 'by', 'prev', 'tracked', 'meta', 'app')
local function rank(c) if c == ${STATUS_CODES.failed} then return ${STATUS_CODES.completed} end return c end
if not known[1] then
  redis.call('HSET', KEYS[1], 'code', code, 'images', images, 'by', ARGV[3], 'prev', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 0}
end
local knownCode = tonumber(known[1])
-- A tracked generation (webhooks.generations.track) answers its metadata and app too.
local tracked = known[5] and {known[6] or '', known[7] or ''} or nil
if known[3] == ARGV[3] then return {1, tonumber(known[4]), tracked} end
local r, kr = rank(code), rank(knownCode)
if not (r > kr or (r == kr and r < ${STATUS_CODES.completed} and images > tonumber(known[2]))) then return {0, knownCode, tracked} end
redis.call('HSET', KEYS[1], 'code', code, 'images', images, 'by', ARGV[3], 'prev', knownCode)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, knownCode, tracked}`;

// Tracking a generation keeps what is known of it (a webhook may come before the track); one not
// heard of yet gets code 0, so that its first delivery moves it whatever its status.
const TRACK = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'code', 0, 'images', 0, 'prev', 0) end
redis.call('HSET', KEYS[1], 'tracked', ARGV[1], 'meta', ARGV[2], 'app', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tonumber(redis.call('HGET', KEYS[1], 'code'))`;

// What moved a tracked generation; its end is published in the same step, so that a wait that
// reads after subscribing cannot miss it.
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'heard', ARGV[1])
if ARGV[2] == '1' then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return 1`;

const READ = `return redis.call('HMGET', KEYS[1], 'code', 'tracked', 'meta', 'app', 'heard')`;

const PEEK = `return tonumber(redis.call('HGET', KEYS[1], 'code') or 0)`;
const LEASE = `return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0`;

interface Script {
  source: string;
  sha1: string;
}

const script = (source: string): Script => ({ source, sha1: createHash("sha1").update(source).digest("hex") });
const SCRIPTS = {
  claim: script(CLAIM),
  release: script(RELEASE),
  complete: script(COMPLETE),
  advance: script(ADVANCE),
  lease: script(LEASE),
  peek: script(PEEK),
  track: script(TRACK),
  record: script(RECORD),
  read: script(READ),
};

/** Backoff of the background retries of a settle that failed; capped, and bounded by `inFlightTtlMs`. */
const FIRST_RETRY_MS = 100;
const LONGEST_RETRY_MS = 2000;
/** A long outage under load must not pile up timers: past this many, the in-flight expiry alone frees keys. */
const MAX_BACKGROUND_RETRIES = 10_000;

/**
 * The shared store for several instances behind a load balancer: a Lua claim that is atomic
 * across processes, an in-flight state with its own short expiry, and a done state kept for the
 * time to live.
 *
 * A settle (complete or release) that fails because Redis is briefly away is retried in the
 * background for up to `inFlightTtlMs`: the key is still in flight meanwhile, so a retry of
 * the delivery waits (`409`) instead of being handled a second time once Redis is back.
 */
export class RedisStore implements DedupeStore, TrackingStore, LeasingStore {
  readonly keyPrefix: string;
  readonly ttlMs: number;
  readonly inFlightTtlMs: number;
  readonly commandTimeoutMs: number;
  private readonly client: RedisScriptClient;
  /** Every claim's token is unique across processes: this process's id and a counter. */
  private readonly processId = randomUUID();
  private claims = 0;
  /** The tokens of the keys this process holds in flight; a settle removes its key. */
  private readonly tokens = new Map<string, string>();
  private backgroundRetries = 0;
  /** Where the ends of tracked generations are heard, opened by the first wait and closed after the last. */
  private ended: RedisEndedChannel | undefined;

  constructor(client: RedisScriptClient, options: RedisStoreOptions = {}) {
    const candidate = client as unknown as Partial<RedisScriptClient> | null;
    if (typeof candidate?.evalsha !== "function" || typeof candidate.eval !== "function") {
      throw new ConfigError(
        "redisStore takes an ioredis client, e.g. redisStore(new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }))",
        "",
      );
    }
    const {
      keyPrefix = DEFAULT_KEY_PREFIX,
      ttlMs = DEFAULT_REDIS_TTL_MS,
      inFlightTtlMs = DEFAULT_IN_FLIGHT_TTL_MS,
      commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
    } = options;
    if (typeof keyPrefix !== "string") throw new ConfigError(`keyPrefix must be a string, got ${String(keyPrefix)}`, "redisStore");
    this.client = client;
    this.keyPrefix = keyPrefix;
    this.ttlMs = positiveMs("ttlMs", ttlMs);
    this.inFlightTtlMs = positiveMs("inFlightTtlMs", inFlightTtlMs);
    this.commandTimeoutMs = positiveMs("commandTimeoutMs", commandTimeoutMs);
  }

  /** Takes the key in flight, atomically across every instance, unless it is in flight or done. */
  async claim(key: string): Promise<ClaimResult> {
    const token = `${this.processId}:${++this.claims}`;
    let answer: unknown;
    try {
      answer = await this.run(SCRIPTS.claim, this.keyPrefix + key, token, this.inFlightTtlMs);
    } catch (err) {
      // A claim that timed out may still reach Redis (queued in the client, or resent on
      // reconnect): free it then, or the key would answer in-flight until it expires. A claim the
      // client rejected itself is left to that expiry: retrying every one of them through an
      // outage would cost more than the wait.
      if (err instanceof RedisTimeoutError) this.retryInBackground(SCRIPTS.release, this.keyPrefix + key, [token]);
      throw err;
    }
    if (answer === "claimed") this.tokens.set(key, token);
    if (answer === "claimed" || answer === "in-flight" || answer === DONE) return answer;
    throw new Error(`imagegen-webhooks: unexpected answer from the Redis claim script: ${String(answer)}`);
  }

  /** Records the key as done for `ttlMs`. */
  async complete(key: string): Promise<void> {
    this.tokens.delete(key);
    await this.settle(SCRIPTS.complete, key, [this.ttlMs], "complete");
  }

  /** Moves a generation's status forward, atomically across every instance (`GenerationStore`). */
  async advance(key: string, status: TrackedStatus, images: number, delivery: string): Promise<Advance> {
    const answer = await this.run(
      SCRIPTS.advance,
      `${this.keyPrefix}generation:${key}`,
      STATUS_CODES[status],
      images,
      delivery,
      this.ttlMs,
    );
    const [moved, previous, tracked] = answer as [number, number, [string, string] | undefined];
    const advance: Advance = { moved: moved === 1, previous: STATUS_OF_CODE[previous] };
    if (tracked)
      advance.tracked = {
        metadata: tracked[0] ? (JSON.parse(tracked[0]) as Record<string, unknown>) : undefined,
        app: tracked[1] || undefined,
      };
    return advance;
  }

  /** Records a generation as tracked, with its metadata, under the same retention as its status (`TrackingStore`). */
  async track(key: string, entry: TrackEntry): Promise<TrackedStatus | undefined> {
    const metadata = entry.metadata === undefined ? "" : JSON.stringify(entry.metadata);
    const code = await this.run(SCRIPTS.track, this.generationKey(key), entry.trackedAt, metadata, entry.app ?? "", this.ttlMs);
    return STATUS_OF_CODE[Number(code)];
  }

  /** What moved a tracked generation; publishes its end to every instance's waits (`TrackingStore`). */
  async record(key: string, heard: HeardOf, ended: boolean): Promise<void> {
    await this.run(SCRIPTS.record, this.generationKey(key), JSON.stringify(heard), ended ? "1" : "0", this.endedChannel, key);
  }

  /** The generation as last recorded by any instance (`TrackingStore`). */
  async read(key: string): Promise<GenerationRecord | undefined> {
    const [code, trackedAt, metadata, app, heard] = (await this.run(SCRIPTS.read, this.generationKey(key))) as (string | null)[];
    if (code === null || code === undefined) return undefined;
    return {
      status: STATUS_OF_CODE[Number(code)],
      tracked: trackedAt
        ? {
            trackedAt: Number(trackedAt),
            metadata: metadata ? (JSON.parse(metadata) as Record<string, unknown>) : undefined,
            app: app || undefined,
          }
        : undefined,
      heard: heard ? (JSON.parse(heard) as HeardOf) : undefined,
    };
  }

  /**
   * Calls `ended` when any instance records the generation's end. Every wait of this store shares
   * one subscriber connection (the client's `duplicate()`), opened by the first and closed after the last.
   */
  async onEnded(key: string, ended: () => void): Promise<() => void> {
    if (!this.ended || this.ended.closing) {
      const client = this.client as unknown as Partial<RedisSubscriberSource>;
      if (typeof client.duplicate !== "function") {
        throw new TypeError("imagegen-webhooks: generations.wait() on Redis needs a client with duplicate() (an ioredis Redis or Cluster)");
      }
      this.ended = new RedisEndedChannel(client as RedisSubscriberSource, this.endedChannel, this.commandTimeoutMs);
    }
    return this.ended.listen(key, ended);
  }

  /** Subscriptions to ended generations this store holds now (0 once every wait has settled). */
  get waitedFor(): number {
    return this.ended && !this.ended.closing ? this.ended.size : 0;
  }

  private get endedChannel(): string {
    return `${this.keyPrefix}generation-ended`;
  }

  private generationKey(key: string): string {
    return `${this.keyPrefix}generation:${key}`;
  }

  /** Leases a generation's read-back to this instance for `ms`, so that several instances do not all read it (`LeasingStore`). */
  async lease(key: string, ms: number): Promise<boolean> {
    return (await this.run(SCRIPTS.lease, `${this.keyPrefix}lease:${key}`, this.processId, Math.ceil(ms))) === 1;
  }

  /** A generation's furthest status, as any instance recorded it (`LeasingStore`). */
  async peek(key: string): Promise<TrackedStatus | undefined> {
    return STATUS_OF_CODE[Number(await this.run(SCRIPTS.peek, `${this.keyPrefix}generation:${key}`))];
  }

  /** Frees the key, if this process's claim still holds it. */
  async release(key: string): Promise<void> {
    const token = this.tokens.get(key);
    // Without a token this process does not hold the key, and must not free another's claim.
    if (token === undefined) return;
    this.tokens.delete(key);
    await this.settle(SCRIPTS.release, key, [token], "release");
  }

  private async settle(command: Script, key: string, args: (string | number)[], what: string): Promise<void> {
    try {
      await this.run(command, this.keyPrefix + key, ...args);
    } catch (err) {
      this.retryInBackground(command, this.keyPrefix + key, args);
      throw new Error(
        `imagegen-webhooks: could not ${what} the key in Redis; retrying in the background for up to ${this.inFlightTtlMs} ms (inFlightTtlMs)`,
        { cause: err },
      );
    }
  }

  /** Retries with a capped backoff until it succeeds or `inFlightTtlMs` has passed; never keeps the process alive. */
  private retryInBackground(command: Script, redisKey: string, args: (string | number)[]): void {
    if (this.backgroundRetries >= MAX_BACKGROUND_RETRIES) return;
    this.backgroundRetries++;
    const deadline = Date.now() + this.inFlightTtlMs;
    const attempt = (delay: number): void => {
      if (Date.now() + delay > deadline) {
        this.backgroundRetries--;
        return;
      }
      const timer = setTimeout(() => {
        this.run(command, redisKey, ...args).then(
          () => void this.backgroundRetries--,
          () => attempt(Math.min(delay * 2, LONGEST_RETRY_MS)),
        );
      }, delay);
      timer.unref();
    };
    attempt(FIRST_RETRY_MS);
  }

  /** EVALSHA, and EVAL when Redis lacks the script (a restart or a failover empties its cache), within the time limit. */
  private run(command: Script, redisKey: string, ...args: (string | number)[]): Promise<unknown> {
    const call = this.client.evalsha(command.sha1, 1, redisKey, ...args).catch((err: unknown) => {
      if (err instanceof Error && err.message.startsWith("NOSCRIPT")) return this.client.eval(command.source, 1, redisKey, ...args);
      throw err;
    });
    return withTimeout(call, this.commandTimeoutMs);
  }
}

function positiveMs(name: string, value: unknown): number {
  if (!isPositiveNumber(value)) {
    throw new ConfigError(`${name} must be a positive number of milliseconds, got ${String(value)}`, "redisStore");
  }
  // PX takes whole milliseconds.
  return Math.ceil(value);
}

function withTimeout<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A dedupe store in Redis, shared by every instance that uses the same Redis and key prefix.
 *
 * ```ts
 * import Redis from "ioredis";
 * import { redisStore } from "imagegen-webhooks/redis";
 * const redis = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
 * createWebhooks({ providers, dedupe: redisStore(redis) });
 * ```
 */
export function redisStore(client: RedisScriptClient, options?: RedisStoreOptions): RedisStore {
  return new RedisStore(client, options);
}
