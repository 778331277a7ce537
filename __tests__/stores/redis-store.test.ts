import { randomUUID } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import Redis, { type RedisOptions } from "ioredis";
import { createWebhooks, type WebhooksOptions } from "imagegen-webhooks";
import { redisStore, DEFAULT_KEY_PREFIX, type RedisStoreOptions } from "imagegen-webhooks/redis";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { freeLoopbackPort, startRedisServer, suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "crazyhorse-secret-for-redis-tests";
/** What docs/stores.md recommends: a command fails at once while Redis is away, instead of queueing. */
const RECOMMENDED: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1 };
// ioredis keeps a 2 s timer after disconnect() from a dropped connection; jest would wait for it.
const CLIENT_OPTIONS: RedisOptions = { ...RECOMMENDED, disconnectTimeout: 50 };

const clients: Redis[] = [];

/** A client that is ready (with the offline queue off, a command before "ready" would fail). */
async function connect(url: string, options: RedisOptions = {}): Promise<Redis> {
  const client = new Redis(url, { ...CLIENT_OPTIONS, ...options });
  client.on("error", () => {}); // reconnects are the subject of some tests; ioredis would print each one
  clients.push(client);
  if (options.lazyConnect) return client;
  await new Promise<void>((resolve, reject) => {
    client.once("ready", resolve);
    client.once("end", () => reject(new Error(`could not connect to ${url}`)));
  });
  return client;
}

/** Each test's keys under a prefix of their own: the suite's Redis may be shared. */
const prefix = () => `imagegen-webhooks-test:${randomUUID()}:`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let url: string;
let admin: Redis;

beforeAll(async () => {
  url = suiteRedisUrl();
  admin = await connect(url);
});

afterAll(async () => {
  await Promise.all(clients.map(disconnect));
});

/** Stops a client and waits until its connection is gone, so that jest exits at once. */
function disconnect(client: Redis): Promise<void> {
  // A client between two reconnection attempts has no connection to wait for (and emits no "end").
  if (client.status === "end" || client.status === "reconnecting" || client.status === "wait") {
    client.disconnect();
    return Promise.resolve();
  }
  const ended = new Promise<void>((resolve) => client.once("end", resolve));
  client.disconnect();
  return ended;
}

function receiver(options: Partial<WebhooksOptions>) {
  return createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, ...options });
}

function deliver(webhooks: ReturnType<typeof receiver>, body: unknown) {
  return webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    rawBody: JSON.stringify(body),
    query: { token: SECRET },
  });
}

describe("redisStore: claim, complete, release in a real Redis", () => {
  test("a new key is claimed; again while in flight it is in-flight; once completed it is done", async () => {
    const store = redisStore(await connect(url), { keyPrefix: prefix() });
    expect(await store.claim("crazyhorse:a:done")).toBe("claimed");
    expect(await store.claim("crazyhorse:a:done")).toBe("in-flight");
    await store.complete("crazyhorse:a:done");
    expect(await store.claim("crazyhorse:a:done")).toBe("done");
    expect(await store.claim("crazyhorse:b:done")).toBe("claimed");
  });

  test("a released key is claimed again", async () => {
    const store = redisStore(await connect(url), { keyPrefix: prefix() });
    expect(await store.claim("k")).toBe("claimed");
    await store.release("k");
    expect(await store.claim("k")).toBe("claimed");
  });

  test("two stores on two connections see each other's keys: what one claimed or completed, the other does not claim", async () => {
    const keyPrefix = prefix();
    const one = redisStore(await connect(url), { keyPrefix });
    const other = redisStore(await connect(url), { keyPrefix });
    expect(await one.claim("k")).toBe("claimed");
    expect(await other.claim("k")).toBe("in-flight");
    await one.complete("k");
    expect(await other.claim("k")).toBe("done");
  });

  test("claims raced from two connections: every key is claimed by exactly one", async () => {
    const keyPrefix = prefix();
    const stores = [redisStore(await connect(url), { keyPrefix }), redisStore(await connect(url), { keyPrefix })];
    const keys = Array.from({ length: 300 }, (_, i) => `race:${i}`);
    // Which connection sends first alternates, so that each wins some keys against the other.
    const answers = await Promise.all(
      keys.map((key, i) => {
        const order = i % 2 === 0 ? stores : [...stores].reverse();
        return Promise.all(order.map((store) => store.claim(key)));
      }),
    );
    for (const pair of answers) expect(pair.slice().sort()).toEqual(["claimed", "in-flight"]);
  });

  test("keys live under the prefix, by default imagegen-webhooks:", async () => {
    const key = `crazyhorse:${randomUUID()}:done`;
    const store = redisStore(await connect(url));
    await store.claim(key);
    expect(await admin.exists(`${DEFAULT_KEY_PREFIX}${key}`)).toBe(1);
    await store.release(key);

    const keyPrefix = prefix();
    const prefixed = redisStore(await connect(url), { keyPrefix });
    await prefixed.claim(key);
    expect(await admin.exists(`${keyPrefix}${key}`)).toBe(1);
    expect(await admin.exists(`${DEFAULT_KEY_PREFIX}${key}`)).toBe(0);
  });

  test("stores with different prefixes are independent", async () => {
    const one = redisStore(await connect(url), { keyPrefix: prefix() });
    const other = redisStore(await connect(url), { keyPrefix: prefix() });
    expect(await one.claim("k")).toBe("claimed");
    expect(await other.claim("k")).toBe("claimed");
  });

  test("an in-flight key expires after inFlightTtlMs, a done key after ttlMs", async () => {
    const keyPrefix = prefix();
    const store = redisStore(await connect(url), { keyPrefix, inFlightTtlMs: 30_000, ttlMs: 3_600_000 });
    await store.claim("k");
    const inFlight = await admin.pttl(`${keyPrefix}k`);
    expect(inFlight).toBeGreaterThan(25_000);
    expect(inFlight).toBeLessThanOrEqual(30_000);
    await store.complete("k");
    const done = await admin.pttl(`${keyPrefix}k`);
    expect(done).toBeGreaterThan(3_500_000);
    expect(done).toBeLessThanOrEqual(3_600_000);
  });

  test("the defaults: in flight for 60 s (a crashed instance frees the key), done for 24 hours", async () => {
    const keyPrefix = prefix();
    const store = redisStore(await connect(url), { keyPrefix });
    await store.claim("k");
    expect(await admin.pttl(`${keyPrefix}k`)).toBeGreaterThan(50_000);
    expect(await admin.pttl(`${keyPrefix}k`)).toBeLessThanOrEqual(60_000);
    await store.complete("k");
    expect(await admin.pttl(`${keyPrefix}k`)).toBeGreaterThan(24 * 3600_000 - 60_000);
  });

  test("a claim whose instance never settled it (a crash) is free again once inFlightTtlMs has passed", async () => {
    const keyPrefix = prefix();
    const crashed = redisStore(await connect(url), { keyPrefix, inFlightTtlMs: 100 });
    const survivor = redisStore(await connect(url), { keyPrefix });
    expect(await crashed.claim("k")).toBe("claimed");
    expect(await survivor.claim("k")).toBe("in-flight");
    await sleep(200);
    expect(await survivor.claim("k")).toBe("claimed");
  });

  test("release frees only the key this store's claim holds: not a claim another instance took since", async () => {
    const keyPrefix = prefix();
    const slow = redisStore(await connect(url), { keyPrefix, inFlightTtlMs: 100 });
    const other = redisStore(await connect(url), { keyPrefix });
    const third = redisStore(await connect(url), { keyPrefix });
    expect(await slow.claim("k")).toBe("claimed");
    await sleep(200); // the slow instance's claim expired
    expect(await other.claim("k")).toBe("claimed");
    await slow.release("k");
    expect(await third.claim("k")).toBe("in-flight");

    // A store that never claimed the key does not free it either.
    await third.release("k");
    expect(await third.claim("k")).toBe("in-flight");
  });

  test("complete records done even when its claim had expired and another instance claimed since", async () => {
    const keyPrefix = prefix();
    const slow = redisStore(await connect(url), { keyPrefix, inFlightTtlMs: 100 });
    const other = redisStore(await connect(url), { keyPrefix });
    await slow.claim("k");
    await sleep(200);
    expect(await other.claim("k")).toBe("claimed");
    await slow.complete("k");
    // The delivery was handled: the other instance's failure must not make the provider's retry handled again.
    await other.release("k");
    expect(await other.claim("k")).toBe("done");
  });

  test("Redis forgot its scripts (a restart, a failover, SCRIPT FLUSH): the store loads them again", async () => {
    const store = redisStore(await connect(url), { keyPrefix: prefix() });
    expect(await store.claim("a")).toBe("claimed");
    await admin.script("FLUSH");
    expect(await store.claim("a")).toBe("in-flight");
    await admin.script("FLUSH");
    await store.complete("a");
    await admin.script("FLUSH");
    expect(await store.claim("b")).toBe("claimed");
    await store.release("b");
    expect(await store.claim("a")).toBe("done");
    expect(await store.claim("b")).toBe("claimed");
  });

  test("an error from Redis is the claim's rejection (the pipeline's 503), not a claim", async () => {
    const keyPrefix = prefix();
    await admin.set(`${keyPrefix}k`, "not-a-string-key-type-but-a-list", "PX", 60_000);
    await admin.del(`${keyPrefix}k`);
    await admin.rpush(`${keyPrefix}k`, "x"); // GET on a list is a WRONGTYPE error
    await admin.pexpire(`${keyPrefix}k`, 60_000);
    const store = redisStore(await connect(url), { keyPrefix });
    await expect(store.claim("k")).rejects.toThrow(/WRONGTYPE/);
  });
});

describe("redisStore: options and mistakes", () => {
  test("a value that is not a Redis client throws, naming what to pass", () => {
    expect(() => redisStore({} as never)).toThrow(/redisStore takes an ioredis client, e.g. redisStore\(new Redis/);
    expect(() => redisStore(undefined as never)).toThrow(/ioredis client/);
  });

  test.each<[keyof RedisStoreOptions, unknown]>([
    ["ttlMs", 0],
    ["ttlMs", -1],
    ["inFlightTtlMs", Number.NaN],
    ["commandTimeoutMs", Infinity],
    ["commandTimeoutMs", "1000"],
  ])("%s: %p throws", async (name, value) => {
    const client = await connect(url, { lazyConnect: true });
    expect(() => redisStore(client, { [name]: value })).toThrow(new RegExp(`${name} must be a positive number of milliseconds`));
  });

  test("a keyPrefix that is not a string throws", async () => {
    const client = await connect(url, { lazyConnect: true });
    expect(() => redisStore(client, { keyPrefix: 5 as never })).toThrow(/keyPrefix must be a string/);
  });

  test("the store is accepted by createWebhooks as its dedupe option", async () => {
    const store = redisStore(await connect(url), { keyPrefix: prefix() });
    expect(() => receiver({ dedupe: store })).not.toThrow();
  });
});

describe("createWebhooks with the Redis store: two instances share what they have seen", () => {
  test("a delivery handled by one instance is a duplicate on the other: 200, a duplicate event, listeners not called again", async () => {
    const keyPrefix = prefix();
    const one = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    const other = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    const handled: string[] = [];
    const duplicates: string[] = [];
    one.on("crazyhorse.done", (event) => void handled.push(`one:${event.id}`));
    other.on("crazyhorse.done", (event) => void handled.push(`other:${event.id}`));
    other.on("duplicate", (event) => void duplicates.push(event.id));

    const body = crazyhorseDelivery();
    expect((await deliver(one, body)).status).toBe(200);
    const again = await deliver(other, body);
    expect(again.status).toBe(200);
    expect(again.body).toBe("success");
    expect(handled).toEqual([`one:${body.code}:done`]);
    expect(duplicates).toEqual([`${body.code}:done`]);
  });

  test("while one instance's listeners run, the other answers 409 with Retry-After", async () => {
    const keyPrefix = prefix();
    const one = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    const other = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    let finish!: () => void;
    const running = new Promise<void>((resolve) => (finish = resolve));
    one.on("crazyhorse.done", () => running);
    const body = crazyhorseDelivery();
    const first = deliver(one, body);
    await sleep(50);
    const meanwhile = await deliver(other, body);
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.headers["retry-after"]).toMatch(/^\d+$/);
    finish();
    expect((await first).status).toBe(200);
  });

  test("a listener that throws on one instance releases the key: the provider's retry on the other is handled", async () => {
    const keyPrefix = prefix();
    const failing = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    const healthy = receiver({ dedupe: redisStore(await connect(url), { keyPrefix }) });
    failing.on("crazyhorse.done", () => {
      throw new Error("the database is down");
    });
    failing.on("error", () => {});
    const handled: string[] = [];
    healthy.on("crazyhorse.done", (event) => void handled.push(event.id));

    const body = crazyhorseDelivery();
    expect((await deliver(failing, body)).status).toBe(500);
    expect((await deliver(healthy, body)).status).toBe(200);
    expect(handled).toEqual([`${body.code}:done`]);
  });
});

describe("when Redis cannot be reached", () => {
  /** A client of a port where nothing listens: every command fails, as while Redis is down. */
  async function unreachableClient(): Promise<Redis> {
    const port = await freeLoopbackPort();
    const client = new Redis(`redis://127.0.0.1:${port}`, { ...CLIENT_OPTIONS, retryStrategy: () => 1000 });
    client.on("error", () => {});
    clients.push(client);
    return client;
  }

  test("the delivery is answered 503 with Retry-After, promptly, and nothing is emitted", async () => {
    const webhooks = receiver({ dedupe: redisStore(await unreachableClient()) });
    const emitted: string[] = [];
    webhooks.on("*", (event) => void emitted.push(event.id));
    webhooks.on("duplicate", (event) => void emitted.push(`duplicate ${event.id}`));

    const started = Date.now();
    const answer = await deliver(webhooks, crazyhorseDelivery());
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
    expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(emitted).toEqual([]);
    // Well under the 1 s commandTimeoutMs: the recommended client fails at once instead of queueing.
    expect(Date.now() - started).toBeLessThan(900);
  });

  test("a Redis that accepts the connection but never answers: 503 after commandTimeoutMs, whatever the client's settings", async () => {
    const sockets = new Set<Socket>();
    const blackHole: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => blackHole.listen(0, "127.0.0.1", resolve));
    const { port } = blackHole.address() as { port: number };
    // The client's defaults (offline queue on, 20 retries per request) would wait a long time.
    const client = new Redis(`redis://127.0.0.1:${port}`, { enableReadyCheck: false });
    client.on("error", () => {});
    try {
      const webhooks = receiver({ dedupe: redisStore(client, { commandTimeoutMs: 200 }) });
      const emitted: string[] = [];
      webhooks.on("*", (event) => void emitted.push(event.id));

      const answer = await deliver(webhooks, crazyhorseDelivery());
      expect(answer.status).toBe(503);
      expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
      expect(emitted).toEqual([]);
    } finally {
      client.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackHole.close(resolve));
    }
  });

  test("with dedupeFailOpen: true the delivery is handled without deduplication, and a repeat is handled again", async () => {
    const webhooks = receiver({ dedupe: redisStore(await unreachableClient()), dedupeFailOpen: true });
    const handled: string[] = [];
    webhooks.on("crazyhorse.done", (event) => void handled.push(event.id));
    const body = crazyhorseDelivery();
    expect((await deliver(webhooks, body)).status).toBe(200);
    expect((await deliver(webhooks, body)).status).toBe(200);
    expect(handled).toEqual([`${body.code}:done`, `${body.code}:done`]);
  });

  test("a complete that fails while Redis is away is retried once it is back: the key ends done, not free", async () => {
    const server = await startRedisServer({ persistent: true });
    try {
      const keyPrefix = prefix();
      const store = redisStore(await connect(server.url, { retryStrategy: () => 50 }), { keyPrefix, inFlightTtlMs: 10_000 });
      expect(await store.claim("k")).toBe("claimed");
      await server.kill();
      await expect(store.complete("k")).rejects.toThrow(/retrying in the background/);
      await server.restart();

      const observer = redisStore(await connect(server.url), { keyPrefix });
      let answer = await observer.claim("k");
      // Bounded: the retries back off to 2 s at most; 5 s is plenty.
      for (let i = 0; i < 50 && answer === "in-flight"; i++) {
        await sleep(100);
        answer = await observer.claim("k");
      }
      expect(answer).toBe("done");
    } finally {
      await server.stop();
    }
  });
});
