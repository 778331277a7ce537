// In inbox mode: the edge's span stores its trace context with the delivery, and the worker's span
// (another receiver, as in another process) links to it; worker runs, dead deliveries and the
// inbox's depth by status are metrics. Against the suite's real redis-server.
import { randomUUID } from "node:crypto";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { Redis } from "ioredis";
import { createWebhooks, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { countOf, installOtel, pointsOf, type Otel } from "../helpers/otel";
import { suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "crazyhorse-secret-for-the-telemetry-inbox-test";
let otel: Otel;
const connections: Redis[] = [];
const receivers: Webhooks[] = [];

beforeAll(() => {
  otel = installOtel();
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
});
afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await otel.shutdown();
});

/** An edge or a worker: a receiver of its own on a connection of its own, over one queue. */
function instance(queueName: string): Webhooks {
  const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null, disconnectTimeout: 50 });
  connection.on("error", () => {});
  connections.push(connection);
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET } },
    inbox: bullmqInbox({ connection, queueName, attempts: 2, backoff: 10, lockDurationMs: 1000 }),
  });
  receivers.push(webhooks);
  return webhooks;
}

const send = (webhooks: Webhooks, code: string) =>
  webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: SECRET },
    rawBody: JSON.stringify(crazyhorseDelivery({ state: "DONE", code })),
  });

async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("the worker's span links to the edge's span through the trace context stored with the delivery", async () => {
  const queueName = `otel-${randomUUID()}`;
  const edge = instance(queueName);
  const code = randomUUID().replace(/-/g, "");
  expect((await send(edge, code)).status).toBe(200);
  const edgeSpan = otel.spans().find((span) => span.attributes["imagegen_webhooks.delivery.id"] === `${code}:done`);
  expect(edgeSpan?.attributes).toMatchObject({ "imagegen_webhooks.outcome": "stored", "http.response.status_code": 200 });

  const stored = await edge.deliveries.get(`crazyhorse:${code}:done`);
  expect(stored).toBeDefined();

  const worker = instance(queueName);
  const listenerRan = new Promise<void>((resolve) => worker.on("crazyhorse.done", () => resolve()));
  await worker.startWorker();
  await listenerRan;
  const run = await until(() =>
    otel
      .spans()
      .find(
        (span) => span.name === "webhook process crazyhorse.done" && span.attributes["imagegen_webhooks.delivery.id"] === `${code}:done`,
      ),
  );
  expect(run.kind).toBe(SpanKind.CONSUMER);
  expect(run.links.map((link) => link.context.spanId)).toEqual([edgeSpan?.spanContext().spanId]);
  expect(run.links[0]?.context.traceId).toBe(edgeSpan?.spanContext().traceId);
  expect(run.attributes).toMatchObject({
    "imagegen_webhooks.attempt": 1,
    "imagegen_webhooks.replayed": false,
    "imagegen_webhooks.outcome": "handled",
  });
  const listener = otel
    .spans()
    .find((span) => span.name === "webhook listener crazyhorse.done" && span.parentSpanContext?.spanId === run.spanContext().spanId);
  expect(listener).toBeDefined();
});

test("a failing run is an error span and a failed run; after its last attempt, a dead delivery; the gauge reads the inbox by status", async () => {
  const queueName = `otel-${randomUUID()}`;
  const webhooks = instance(queueName);
  webhooks.on("crazyhorse.done", () => {
    throw new Error("always fails");
  });
  webhooks.on("error", () => {});
  // Nothing failed in this file before this test, so the cumulative counts are this test's own.
  const dead = new Promise<void>((resolve) => webhooks.on("dead", () => resolve()));
  await webhooks.startWorker();
  await send(webhooks, randomUUID().replace(/-/g, ""));
  await dead;

  const runs = otel.spans().filter((span) => span.name === "webhook process crazyhorse.done" && span.status.code === SpanStatusCode.ERROR);
  expect(runs.length).toBeGreaterThanOrEqual(2);
  const metrics = await otel.collect();
  // Each named by its queue, as the gauge is: two inboxes' runs and dead deliveries are two series.
  const queue = { "messaging.system": "bullmq", "messaging.destination.name": queueName };
  expect(countOf(metrics, "imagegen_webhooks.inbox.runs", { ...queue, "imagegen_webhooks.outcome": "failed" })).toBe(2);
  expect(countOf(metrics, "imagegen_webhooks.inbox.dead", { ...queue, "imagegen_webhooks.provider": "crazyhorse" })).toBe(1);
  expect(runs.every((run) => run.attributes["messaging.destination.name"] === queueName)).toBe(true);
  expect(pointsOf(metrics, "imagegen_webhooks.inbox.run.duration").length).toBeGreaterThan(0);
  // The inbox is read when a reader collects, at most once a second: this test's collection reads it.
  const depth = pointsOf(metrics, "imagegen_webhooks.inbox.deliveries").filter(
    (point) => point.attributes["imagegen_webhooks.inbox.state"] === "dead",
  );
  expect(depth.map((point) => point.value)).toContain(1);
});

test("two inboxes on two queues: the gauge tells their depths apart by the queue's name", async () => {
  const [first, second] = [`otel-${randomUUID()}`, `otel-${randomUUID()}`];
  const [one, two] = [instance(first), instance(second)];
  // No worker: what is stored stays queued.
  await send(one, randomUUID().replace(/-/g, ""));
  await send(two, randomUUID().replace(/-/g, ""));
  await send(two, randomUUID().replace(/-/g, ""));

  const queued = pointsOf(await otel.collect(), "imagegen_webhooks.inbox.deliveries").filter(
    (point) => point.attributes["imagegen_webhooks.inbox.state"] === "queued",
  );
  const depthOf = (queueName: string) =>
    queued
      .filter((point) => point.attributes["messaging.destination.name"] === queueName)
      .map((point) => [point.attributes["messaging.system"], point.value]);
  expect(depthOf(first)).toEqual([["bullmq", 1]]);
  expect(depthOf(second)).toEqual([["bullmq", 2]]);
});
