import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import Redis from "ioredis";
import { ConfigError } from "imagegen-webhooks";
import {
  bullmqInbox,
  InboxUnavailableError,
  type BullmqInboxOptions,
  type DeliveryRun,
  type Inbox,
  type StoredDelivery,
} from "imagegen-webhooks/bullmq";
import { freeLoopbackPort, startRedisServer, suiteRedisUrl, type RedisServer } from "../helpers/redis-server";

let url: string;
const connections: Redis[] = [];
const inboxes: Inbox[] = [];
const servers: RedisServer[] = [];

beforeAll(() => {
  url = suiteRedisUrl();
});

afterEach(async () => {
  await Promise.all(inboxes.splice(0).map((inbox) => inbox.close()));
});

afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await Promise.all(servers.map((server) => server.stop()));
});

/** The user's connection, as docs/inbox.md says to make it. */
function connect(to = url): Redis {
  // disconnectTimeout: ioredis keeps a 2 s timer after disconnect() from a dropped connection.
  const connection = new Redis(to, { maxRetriesPerRequest: null, disconnectTimeout: 50 });
  connection.on("error", () => {});
  connections.push(connection);
  return connection;
}

/** Each test's queue its own: the suite's Redis is shared. */
const queueName = () => `imagegen-webhooks-test-${randomUUID()}`;

function inbox(options: Partial<BullmqInboxOptions> = {}): Inbox {
  const created = bullmqInbox({ connection: connect(), queueName: queueName(), backoff: 10, lockDurationMs: 1000, ...options });
  inboxes.push(created);
  return created;
}

function delivery(id: string = randomUUID(), provider = "crazyhorse"): StoredDelivery {
  return {
    key: `${provider}:${id}`,
    provider,
    id,
    name: `${provider}.done`,
    payload: { job_id: id, status: "done", images: ["https://example.com/a.png"] },
    receivedAt: new Date().toISOString(),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}

describe("bullmqInbox: enqueue", () => {
  test("a new key is stored, the same key again is a duplicate; keys with ':' and '%' keep their spelling", async () => {
    const box = inbox();
    const first = delivery("job-1");
    expect(await box.enqueue(first)).toBe("stored");
    expect(await box.enqueue(first)).toBe("duplicate");
    expect(await box.enqueue({ ...first, payload: { other: true } })).toBe("duplicate");

    const odd = delivery("a:b%3Ac%25:d");
    expect(await box.enqueue(odd)).toBe("stored");
    expect(await box.enqueue(odd)).toBe("duplicate");

    expect(await box.get(first.key)).toMatchObject({
      key: first.key,
      status: "queued",
      attempts: 0,
      payload: first.payload,
      errors: [],
      replayed: false,
    });
    expect(await box.get(odd.key)).toMatchObject({ key: odd.key, id: odd.id, status: "queued" });
    expect((await box.list()).map((line) => line.key).sort()).toEqual([first.key, odd.key].sort());
    expect(await box.get("crazyhorse:never-stored")).toBeUndefined();
  });

  test("two instances enqueueing the same keys at the same moment: for each key exactly one is stored", async () => {
    const name = queueName();
    const one = inbox({ queueName: name });
    const two = inbox({ queueName: name });
    const keys = Array.from({ length: 100 }, () => delivery());
    const answers = await Promise.all(keys.map((d) => Promise.all([one.enqueue(d), two.enqueue(d)])));
    for (const pair of answers) expect(pair.sort()).toEqual(["duplicate", "stored"]);
  });

  test("Redis never reachable: enqueue rejects within enqueueTimeoutMs", async () => {
    const port = await freeLoopbackPort();
    const box = bullmqInbox({ connection: connect(`redis://127.0.0.1:${port}`), queueName: queueName(), enqueueTimeoutMs: 300 });
    inboxes.push(box);
    const started = Date.now();
    await expect(box.enqueue(delivery())).rejects.toBeInstanceOf(InboxUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test("Redis gone after start: enqueue rejects at once, not after the timeout; stored again once it is back", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const box = inbox({ connection: connect(server.url), enqueueTimeoutMs: 5000 });
    expect(await box.enqueue(delivery())).toBe("stored");

    await server.kill();
    const started = Date.now();
    await expect(box.enqueue(delivery())).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1000);

    await server.restart();
    await waitFor(
      () => box.enqueue(delivery()).catch(() => "failed"),
      (answer) => answer === "stored",
    );
  }, 20_000);
  test("Redis that hangs: every delivery waiting on it rejects within enqueueTimeoutMs; once it answers, a retry is a duplicate", async () => {
    const server = await startRedisServer();
    servers.push(server);
    const box = inbox({ connection: connect(server.url), enqueueTimeoutMs: 300 });
    expect(await box.enqueue(delivery())).toBe("stored");

    server.pause();
    const waiting = Array.from({ length: 5 }, () => delivery());
    const started = Date.now();
    const answers = await Promise.allSettled(waiting.map((d) => box.enqueue(d)));
    const elapsed = Date.now() - started;
    server.resume();
    for (const answer of answers) {
      expect(answer.status).toBe("rejected");
      expect((answer as PromiseRejectedResult).reason).toBeInstanceOf(InboxUnavailableError);
    }
    expect(elapsed).toBeLessThan(1500);

    // The MULTI was sent before the timeout: Redis runs it when it wakes, so the provider's retry
    // of a delivery answered 503 finds it stored, and its listeners run once.
    await waitFor(
      () => box.get(waiting[0]!.key),
      (found) => found !== undefined,
    );
    expect(await box.enqueue(waiting[0]!)).toBe("duplicate");
  }, 20_000);
});

describe("bullmqInbox: workers", () => {
  test("a run that fails twice then succeeds: three attempts, completed; get() keeps both errors", async () => {
    const box = inbox({ attempts: 5 });
    const d = delivery();
    const runs: DeliveryRun[] = [];
    const onDead = jest.fn();
    await box.startWorker(
      async (stored, run) => {
        expect(stored).toEqual(d);
        runs.push(run);
        if (run.attempt < 3) throw new Error(`listener down (${run.attempt})`);
      },
      { onDead },
    );
    await box.enqueue(d);
    const detail = await waitFor(
      () => box.get(d.key),
      (x) => x?.status === "completed",
    );
    expect(runs).toEqual([
      { attempt: 1, replayed: false, lastAttempt: false },
      { attempt: 2, replayed: false, lastAttempt: false },
      { attempt: 3, replayed: false, lastAttempt: false },
    ]);
    expect(detail).toMatchObject({ status: "completed", attempts: 3, replayed: false, payload: d.payload });
    expect(detail?.error).toBeUndefined();
    expect(detail?.finishedAt).toEqual(expect.any(String));
    expect(detail?.errors.map(({ attempt, message }) => ({ attempt, message }))).toEqual([
      { attempt: 1, message: "listener down (1)" },
      { attempt: 2, message: "listener down (2)" },
    ]);
    expect(await box.list({ status: "completed" })).toEqual([expect.objectContaining({ key: d.key, attempts: 3 })]);
    expect(onDead).not.toHaveBeenCalled();
  });

  test("a run that always fails: dead after `attempts`, onDead once; replayed after the fix, it completes with replayed: true", async () => {
    const box = inbox({ attempts: 3 });
    const d = delivery();
    let fixed = false;
    const runs: DeliveryRun[] = [];
    const onDead = jest.fn();
    await box.startWorker(
      async (_, run) => {
        runs.push(run);
        if (!fixed) throw new Error(`bug #${run.attempt}`);
      },
      { onDead },
    );
    await box.enqueue(d);
    const dead = await waitFor(
      () => box.get(d.key),
      (x) => x?.status === "dead",
    );
    expect(dead).toMatchObject({ status: "dead", attempts: 3, error: "bug #3", replayed: false });
    expect(dead?.errors.map((e) => e.message)).toEqual(["bug #1", "bug #2", "bug #3"]);
    expect(runs.map((r) => r.lastAttempt)).toEqual([false, false, true]);
    await waitFor(
      async () => onDead.mock.calls.length,
      (n) => n === 1,
    );
    const [deadDelivery, deadError, deadRun] = onDead.mock.calls[0]!;
    expect(deadDelivery).toEqual(d);
    expect(deadError).toEqual(expect.objectContaining({ message: "bug #3" }));
    expect(deadRun).toEqual({ attempt: 3, replayed: false, lastAttempt: true });
    expect(await box.list({ status: "dead" })).toEqual([expect.objectContaining({ key: d.key, status: "dead", error: "bug #3" })]);

    fixed = true;
    expect(await box.replay(d.key)).toBe(true);
    // get() reads the job and its state in two calls: a state read just after the run finished
    // can come with the job as it was just before, so wait for both to say the run is over.
    const replayed = await waitFor(
      () => box.get(d.key),
      (x) => x?.status === "completed" && x.attempts === 1,
    );
    expect(runs.at(-1)).toEqual({ attempt: 1, replayed: true, lastAttempt: false });
    expect(replayed).toMatchObject({ status: "completed", attempts: 1, replayed: true });
    expect(replayed?.error).toBeUndefined();
    expect(replayed?.errors).toHaveLength(3);
    expect(onDead).toHaveBeenCalledTimes(1);

    // A completed delivery can be replayed too; a missing one cannot.
    expect(await box.replay(d.key)).toBe(true);
    await waitFor(
      async () => runs.length,
      (n) => n === 5,
    );
    expect(await box.replay("crazyhorse:no-such-delivery")).toBe(false);
  });

  test("replay of a delivery not yet run rejects: it will run anyway", async () => {
    const box = inbox();
    const d = delivery();
    await box.enqueue(d);
    await expect(box.replay(d.key)).rejects.toThrow(/is queued/);
  });

  test("close() on a worker lets its active run finish, and it takes nothing after", async () => {
    const box = inbox();
    let finished = false;
    const started: string[] = [];
    const worker = await box.startWorker(async (d) => {
      started.push(d.key);
      await sleep(300);
      finished = true;
    }, {});
    const first = delivery();
    await box.enqueue(first);
    await waitFor(
      async () => started.length,
      (n) => n === 1,
    );
    await worker.close();
    expect(finished).toBe(true);
    expect((await box.get(first.key))?.status).toBe("completed");

    const second = delivery();
    await box.enqueue(second);
    await sleep(200);
    expect(started).toEqual([first.key]);
    expect((await box.get(second.key))?.status).toBe("queued");
  });

  test("a worker that dies mid-run: another takes the delivery once the lock runs out, as attempt 2", async () => {
    const name = queueName();
    const box = inbox({ queueName: name, lockDurationMs: 500 });
    const d = delivery();
    let release = () => {};
    // A bare BullMQ worker, closed by force: as a killed process, it neither finishes the run nor
    // renews its lock.
    const stuck = new Worker(
      name,
      () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
      // Its stalled check as often as the inbox's: each check holds off the others for its interval.
      { connection: connect(), lockDuration: 500, stalledInterval: 500 },
    );
    await box.enqueue(d);
    await waitFor(
      () => box.get(d.key),
      (x) => x?.status === "active",
    );
    await stuck.close(true);
    const runs: DeliveryRun[] = [];
    await inbox({ queueName: name, lockDurationMs: 500 }).startWorker(async (_, run) => void runs.push(run), {});
    const done = await waitFor(
      () => box.get(d.key),
      (x) => x?.status === "completed",
    );
    release();
    expect(runs).toEqual([{ attempt: 2, replayed: false, lastAttempt: false }]);
    expect(done?.attempts).toBe(2);
  });
});

describe("bullmqInbox: history and options", () => {
  test("list() filters by status and provider, latest first, up to limit", async () => {
    const box = inbox();
    const older = delivery(undefined, "crazyhorse");
    const replicate = delivery(undefined, "replicate");
    const newer = delivery(undefined, "crazyhorse");
    for (const d of [older, replicate, newer]) {
      await box.enqueue(d);
      await sleep(5);
    }
    expect((await box.list()).map((l) => l.key)).toEqual([newer.key, replicate.key, older.key]);
    expect((await box.list({ provider: "crazyhorse" })).map((l) => l.key)).toEqual([newer.key, older.key]);
    expect((await box.list({ provider: "crazyhorse", limit: 1 })).map((l) => l.key)).toEqual([newer.key]);
    expect(await box.list({ status: "completed" })).toEqual([]);
    expect((await box.list({ status: "queued" })).map((l) => l.status)).toEqual(["queued", "queued", "queued"]);
  });

  test("attempts, backoff and retention reach BullMQ as the job's options", async () => {
    const name = queueName();
    const box = inbox({
      queueName: name,
      attempts: 4,
      backoff: { type: "exponential", delay: 50 },
      keep: { completedDays: 1, deadDays: 2.5 },
    });
    await box.enqueue(delivery());
    const queue = new Queue(name, { connection: connect() });
    const [job] = await queue.getJobs(["waiting"]);
    await queue.close();
    expect(job?.opts).toMatchObject({
      attempts: 4,
      backoff: { type: "exponential", delay: 50 },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 216_000 },
      keepLogs: 100,
    });
  });

  test("defaults: 8 attempts, exponential backoff, kept 7 and 30 days", async () => {
    const name = queueName();
    const box = bullmqInbox({ connection: connect(), queueName: name });
    inboxes.push(box);
    await box.enqueue(delivery());
    const queue = new Queue(name, { connection: connect() });
    const [job] = await queue.getJobs(["waiting"]);
    await queue.close();
    expect(job?.opts).toMatchObject({
      attempts: 8,
      backoff: { type: "exponential" },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 30 * 86_400 },
    });
  });

  test("bad options throw at creation, each a ConfigError (the main entry's class)", () => {
    const connection = connect();
    expect(() => bullmqInbox({ connection: new Redis(url, { lazyConnect: true }) })).toThrow(/maxRetriesPerRequest: null/);
    expect(() => bullmqInbox({ connection, attempts: 0 })).toThrow(ConfigError);
    expect(() => bullmqInbox({ connection, queueName: "a:b" })).toThrow(ConfigError);
    expect(() => bullmqInbox({ connection, keep: { deadDays: 0 } })).toThrow(ConfigError);
    expect(() => bullmqInbox({ connection, enqueueTimeoutMs: -1 })).toThrow(ConfigError);
  });

  test("close() never closes the user's connection", async () => {
    const connection = connect();
    const box = bullmqInbox({ connection, queueName: queueName() });
    await box.startWorker(async () => {}, {});
    await box.enqueue(delivery());
    await box.close();
    expect(await connection.ping()).toBe("PONG");
  });
});
