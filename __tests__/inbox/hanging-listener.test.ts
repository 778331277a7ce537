// A listener that never settles, in inbox mode, against the suite's real redis-server: with worker
// concurrency 1 it fails each attempt at handlerTimeoutMs (its event.signal aborted then) and is
// dead, while the deliveries behind it complete; close({ timeoutMs }) resolves by its deadline,
// says which delivery it left, and another worker takes that delivery again once its lock runs out.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createWebhooks, type DeadDelivery, type Logger, type Webhooks, type WebhookHandlerError } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "crazyhorse-secret-for-the-hanging-listener-test";
const connections: Redis[] = [];
const receivers: Webhooks[] = [];

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close({ timeoutMs: 500 })));
});

afterAll(() => {
  for (const connection of connections) connection.disconnect();
});

function capture() {
  const warnings: [object, string | undefined][] = [];
  const noop = () => {};
  const logger: Logger = { debug: noop, info: noop, warn: (obj, msg) => void warnings.push([obj, msg]), error: noop };
  return { logger, warnings };
}

function receiver({ queueName = `hanging-test-${randomUUID()}`, handlerTimeoutMs = 60_000, logger = capture().logger } = {}): Webhooks {
  const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null, disconnectTimeout: 50 });
  connection.on("error", () => {});
  connections.push(connection);
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET } },
    handlerTimeoutMs,
    logger,
    inbox: bullmqInbox({ connection, queueName, attempts: 3, backoff: 10, lockDurationMs: 1000 }),
  });
  receivers.push(webhooks);
  return webhooks;
}

function send(webhooks: Webhooks, code: string) {
  return webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: SECRET },
    rawBody: JSON.stringify(crazyhorseDelivery({ state: "DONE", code })),
  });
}

const newCode = () => randomUUID().replace(/-/g, "");
const never = () => new Promise<never>(() => {});

async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `promise`, or a rejection saying it was still pending after `ms`: a close() that never resolves fails the test, not jest's timeout. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test("worker concurrency 1 and a listener that never settles: each attempt fails at handlerTimeoutMs with its signal aborted, then dead; the deliveries behind it complete", async () => {
  const webhooks = receiver({ handlerTimeoutMs: 300 });
  const hung = newCode();
  const later = [newCode(), newCode()];
  const completed: string[] = [];
  const abortedAfterMs: number[] = [];
  const reasons: unknown[] = [];
  const errors: WebhookHandlerError[] = [];
  const dead: DeadDelivery[] = [];
  webhooks.on("error", (err) => void errors.push(err));
  webhooks.on("dead", (delivery) => void dead.push(delivery));
  webhooks.on("generation.completed", (event) => {
    if (event.generation.id !== hung) return void completed.push(event.generation.id);
    const startedAt = performance.now();
    event.signal.addEventListener("abort", () => {
      abortedAfterMs.push(performance.now() - startedAt);
      reasons.push(event.signal.reason);
    });
    return never();
  });
  await webhooks.startWorker({ concurrency: 1 });
  await send(webhooks, hung);
  for (const code of later) await send(webhooks, code);

  await until(() => completed.length === 2 && dead.length === 1);
  expect(completed.sort()).toEqual([...later].sort());
  // Aborted at the deadline of each of the three attempts, not before, and not long after.
  expect(abortedAfterMs).toHaveLength(3);
  for (const ms of abortedAfterMs) {
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2000);
  }
  for (const reason of reasons) expect(reason).toMatchObject({ name: "TimeoutError" });
  expect(errors.map((err) => [err.event?.id, err.message])).toEqual(
    [1, 2, 3].map(() => [`${hung}:done`, expect.stringContaining("did not finish within handlerTimeoutMs (300 ms)")]),
  );
  expect(dead[0]).toEqual({
    event: expect.objectContaining({ id: `${hung}:done`, attempt: 3 }),
    error: expect.objectContaining({ name: "TimeoutError" }),
    attempts: 3,
  });
  const detail = await webhooks.deliveries.get(`crazyhorse:${hung}:done`);
  expect(detail).toEqual(expect.objectContaining({ status: "dead", attempts: 3 }));
  expect(detail?.errors.map(({ attempt }) => attempt)).toEqual([1, 2, 3]);
});

test("close({ timeoutMs }) with a listener that never settles: resolves by its deadline, aborts its signal, names the delivery it left, which another worker takes again once its lock runs out", async () => {
  const queueName = `hanging-test-${randomUUID()}`;
  const { logger, warnings } = capture();
  const first = receiver({ queueName, logger });
  const hung = newCode();
  const signals: AbortSignal[] = [];
  first.on("generation.completed", (event) => {
    signals.push(event.signal);
    return never();
  });
  await first.startWorker({ concurrency: 1 });
  await send(first, hung);
  await until(() => signals.length === 1);
  expect(signals[0]?.aborted).toBe(false);

  const startedAt = performance.now();
  await within(first.close({ timeoutMs: 300 }), 5000);
  const tookMs = performance.now() - startedAt;
  expect(tookMs).toBeGreaterThanOrEqual(290);
  expect(tookMs).toBeLessThan(2000);
  expect(signals[0]?.aborted).toBe(true);
  expect(signals[0]?.reason).toMatchObject({ name: "AbortError" });
  const key = `crazyhorse:${hung}:done`;
  expect(warnings).toEqual([
    [{ left: [key], timeoutMs: 300 }, expect.stringContaining("a worker takes them again once their lock runs out")],
  ]);

  const second = receiver({ queueName });
  const runs: number[] = [];
  second.on("generation.completed", (event) => void runs.push(event.attempt));
  await second.startWorker();
  await until(async () => (await second.deliveries.get(key))?.status === "completed");
  expect(runs).toEqual([2]);
});
