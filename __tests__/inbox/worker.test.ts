// createWebhooks({ inbox }) as a user runs it: the edge answers once a delivery is stored, a worker
// runs the listeners in the usual order with `attempt` and `replayed`, a failing listener is
// retried and then dead, the history shows it, a replay runs it again, and close() lets active
// deliveries finish and takes nothing after. Against the suite's real redis-server.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createWebhooks, type AnyWebhookEvent, type DeadDelivery, type Webhooks, type WebhookHandlerError } from "imagegen-webhooks";
import { bullmqInbox, type BullmqInboxOptions } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { deferred } from "../helpers/deferred";
import { freeLoopbackPort, suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "crazyhorse-secret-for-the-inbox-worker-test";
const connections: Redis[] = [];
const receivers: Webhooks[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
});

afterAll(() => {
  for (const connection of connections) connection.disconnect();
});

function connect(url = suiteRedisUrl()): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, disconnectTimeout: 50 });
  connection.on("error", () => {});
  connections.push(connection);
  return connection;
}

function receiver(inbox: Partial<BullmqInboxOptions> = {}, queueName = `worker-test-${randomUUID()}`): Webhooks {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET } },
    inbox: bullmqInbox({ connection: connect(), queueName, attempts: 3, backoff: 10, lockDurationMs: 1000, ...inbox }),
  });
  receivers.push(webhooks);
  return webhooks;
}

function send(webhooks: Webhooks, overrides: Parameters<typeof crazyhorseDelivery>[0] = {}) {
  return webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: SECRET },
    rawBody: JSON.stringify(crazyhorseDelivery({ state: "DONE", ...overrides })),
  });
}

async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("the edge answers as soon as the delivery is stored, without running a listener; the same key again is 200 and duplicate", async () => {
  const webhooks = receiver();
  const emitted: string[] = [];
  const duplicates: string[] = [];
  webhooks.on("*", (event) => void emitted.push(event.id));
  webhooks.on("duplicate", (event) => void duplicates.push(event.id));
  const code = randomUUID().replace(/-/g, "");

  const first = await send(webhooks, { code });
  expect(first).toEqual({
    status: 200,
    headers: expect.objectContaining({ "content-type": "text/plain; charset=utf-8" }),
    body: "success",
  });
  expect(emitted).toEqual([]); // no worker: nothing ran, the answer did not wait on listeners
  expect(await webhooks.deliveries.list()).toEqual([
    expect.objectContaining({ key: `crazyhorse:${code}:done`, status: "queued", attempts: 0 }),
  ]);

  expect((await send(webhooks, { code })).status).toBe(200);
  expect(duplicates).toEqual([`${code}:done`]);
  expect(await webhooks.deliveries.list()).toHaveLength(1);
});

test("a worker emits the usual events in the usual order, with attempt 1 and replayed false", async () => {
  const webhooks = receiver();
  const seen: [string, number, boolean][] = [];
  for (const name of ["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"] as const) {
    webhooks.on(name, (event: AnyWebhookEvent) => void seen.push([name, event.attempt, event.replayed]));
  }
  await webhooks.startWorker({ concurrency: 2 });
  await send(webhooks);
  await until(() => seen.length === 5);
  expect(seen).toEqual([
    ["crazyhorse.done", 1, false],
    ["crazyhorse", 1, false],
    ["generation.completed", 1, false],
    ["generation", 1, false],
    ["*", 1, false],
  ]);
});

test("a listener that fails twice, then succeeds: three attempts, two error events, completed", async () => {
  const webhooks = receiver();
  const attempts: number[] = [];
  const errors: WebhookHandlerError[] = [];
  webhooks.on("error", (err) => void errors.push(err));
  webhooks.on("generation.completed", (event) => {
    attempts.push(event.attempt);
    if (event.attempt < 3) throw new Error(`downstream unavailable (attempt ${event.attempt})`);
  });
  await webhooks.startWorker();
  const code = randomUUID().replace(/-/g, "");
  await send(webhooks, { code });

  const key = `crazyhorse:${code}:done`;
  const detail = await until(async () => {
    const found = await webhooks.deliveries.get(key);
    return found?.status === "completed" ? found : undefined;
  });
  expect(attempts).toEqual([1, 2, 3]);
  expect(errors.map((err) => err.message)).toEqual([
    expect.stringContaining("downstream unavailable (attempt 1)"),
    expect.stringContaining("downstream unavailable (attempt 2)"),
  ]);
  expect(errors[0]?.event?.id).toBe(`${code}:done`);
  expect(detail.attempts).toBe(3);
  expect(detail.errors.map(({ attempt, message }) => [attempt, message])).toEqual([
    [1, "downstream unavailable (attempt 1)"],
    [2, "downstream unavailable (attempt 2)"],
  ]);
});

test("a listener that always fails: dead after its attempts, a dead event, listed as dead; replayed once fixed, it completes with replayed true", async () => {
  const webhooks = receiver();
  let fixed = false;
  const runs: [number, boolean][] = [];
  const dead: DeadDelivery[] = [];
  webhooks.on("error", () => {});
  webhooks.on("dead", (d) => void dead.push(d));
  webhooks.on("generation.completed", (event) => {
    runs.push([event.attempt, event.replayed]);
    if (!fixed) throw new Error("the bug");
  });
  await webhooks.startWorker();
  const code = randomUUID().replace(/-/g, "");
  await send(webhooks, { code });
  const key = `crazyhorse:${code}:done`;

  await until(() => dead.length === 1);
  expect(runs).toEqual([
    [1, false],
    [2, false],
    [3, false],
  ]);
  expect(dead[0]).toEqual({
    event: expect.objectContaining({ id: `${code}:done`, attempt: 3 }),
    error: expect.objectContaining({ message: "the bug" }),
    attempts: 3,
  });
  const listed = await webhooks.deliveries.list({ status: "dead" });
  expect(listed.map((d) => d.key)).toEqual([key]);
  expect(listed[0]).toEqual(expect.objectContaining({ status: "dead", attempts: 3, error: "the bug" }));

  fixed = true;
  expect(await webhooks.deliveries.replay(key)).toBe(true);
  await until(async () => (await webhooks.deliveries.get(key))?.status === "completed");
  expect(runs.at(-1)).toEqual([1, true]);
  expect(await webhooks.deliveries.list({ status: "dead" })).toEqual([]);
  expect(await webhooks.deliveries.replay("crazyhorse:no-such-delivery")).toBe(false);
});

test("close() with deliveries active: the edge answers 503, the active ones finish, nothing is taken after", async () => {
  const queueName = `worker-test-${randomUUID()}`;
  const webhooks = receiver({}, queueName);
  const release = deferred();
  const started: string[] = [];
  const finished: string[] = [];
  webhooks.on("generation", async (event) => {
    started.push(event.id);
    await release.promise;
    finished.push(event.id);
  });
  await webhooks.startWorker({ concurrency: 2 });
  await send(webhooks);
  await send(webhooks);
  await until(() => started.length === 2);

  const closing = webhooks.close();
  expect((await send(webhooks)).status).toBe(503);
  // Another edge stores a delivery in the same queue while the first receiver closes.
  const other = receiver({}, queueName);
  expect((await send(other)).status).toBe(200);
  release.resolve();
  await closing;
  expect(finished).toEqual(started);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect(started).toHaveLength(2);
  expect(await other.deliveries.list({ status: "queued" })).toHaveLength(1);
});

test("the inbox unreachable: 503 with Retry-After, never a 2xx, nothing emitted", async () => {
  const webhooks = receiver({ enqueueTimeoutMs: 300 }, undefined);
  const closedPort = await freeLoopbackPort();
  const unreachable = createWebhooks({
    providers: { crazyhorse: { secret: SECRET } },
    inbox: bullmqInbox({ connection: connect(`redis://127.0.0.1:${closedPort}`), enqueueTimeoutMs: 300 }),
  });
  receivers.push(unreachable);
  const emitted: string[] = [];
  unreachable.on("*", (event) => void emitted.push(event.id));
  const answer = await send(unreachable);
  expect(answer.status).toBe(503);
  expect(answer.headers).toEqual(
    expect.objectContaining({ "content-type": "application/problem+json", "retry-after": expect.any(String) }),
  );
  expect(JSON.parse(answer.body)).toEqual(
    expect.objectContaining({ type: "urn:imagegen-webhooks:problem:inbox.unavailable", status: 503 }),
  );
  expect(emitted).toEqual([]);
  expect((await send(webhooks)).status).toBe(200);
});

test("without an inbox, startWorker and the history say what to configure", async () => {
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } } });
  await expect(webhooks.startWorker()).rejects.toThrow(/needs an inbox: createWebhooks\(\{ inbox: bullmqInbox/);
  await expect(webhooks.deliveries.list()).rejects.toThrow(/deliveries.list\(\) needs an inbox/);
});

test("the worker keeps generations in order, in the inbox's Redis: a processing stored after completed fires generation.stale", async () => {
  const webhooks = receiver();
  const fired: [string, string | undefined][] = [];
  webhooks.on("generation.completed", (event) => void fired.push(["generation.completed", event.generation.previousStatus]));
  webhooks.on("generation.processing", (event) => void fired.push(["generation.processing", event.generation.previousStatus]));
  webhooks.on("generation.stale", (event) => void fired.push(["generation.stale", event.generation.previousStatus]));
  const code = randomUUID().replace(/-/g, "");
  await send(webhooks, { code, state: "DONE" });
  await send(webhooks, { code, state: "PROCESSING" });
  await webhooks.startWorker({ concurrency: 1 });
  await until(() => fired.length === 2);
  expect(fired).toEqual([
    ["generation.completed", undefined],
    ["generation.stale", "completed"],
  ]);
});
