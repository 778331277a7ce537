// With an SDK registered: each outcome of a delivery gives one span with the right attributes and
// status, and the right counts; each listener a child span; a failing listener an exception event.
import { randomUUID } from "node:crypto";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import express from "express";
import request from "supertest";
import { createWebhooks, type Webhooks } from "imagegen-webhooks";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { countOf, installOtel, pointsOf, type Otel } from "../helpers/otel";

const SECRET = "telemetry-test-token-0123456789";
let otel: Otel;
let webhooks: Webhooks;

beforeAll(() => {
  otel = installOtel();
});
afterAll(() => otel.shutdown());
beforeEach(() => {
  otel.reset();
  webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, handlerTimeoutMs: 50 });
});
afterEach(() => webhooks.close());

const send = (body: unknown, token = SECRET) =>
  webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token },
    rawBody: typeof body === "string" ? body : JSON.stringify(body),
  });

const receiveSpans = () => otel.spans().filter((span) => span.name.startsWith("webhook receive"));

test("a handled delivery: one span with provider, event, delivery and generation ids, outcome and status; one count", async () => {
  const before = countOf(await otel.collect(), "imagegen_webhooks.deliveries", { "imagegen_webhooks.outcome": "handled" });
  const delivery = crazyhorseDelivery({ state: "DONE" });
  expect((await send(delivery)).status).toBe(200);

  const [span] = receiveSpans();
  expect(receiveSpans()).toHaveLength(1);
  expect(span?.name).toBe("webhook receive crazyhorse.done");
  expect(span?.attributes).toEqual({
    "imagegen_webhooks.provider": "crazyhorse",
    "imagegen_webhooks.event.name": "crazyhorse.done",
    "imagegen_webhooks.delivery.id": `${delivery.code}:done`,
    "imagegen_webhooks.generation.id": delivery.code,
    "imagegen_webhooks.outcome": "handled",
    "http.response.status_code": 200,
  });
  expect(span?.status.code).toBe(SpanStatusCode.UNSET);

  const metrics = await otel.collect();
  expect(countOf(metrics, "imagegen_webhooks.deliveries", { "imagegen_webhooks.outcome": "handled" })).toBe(before + 1);
  const duration = pointsOf(metrics, "imagegen_webhooks.delivery.duration");
  expect(duration.length).toBeGreaterThan(0);
  const descriptor = (await otel.collect()).find((m) => m.descriptor.name === "imagegen_webhooks.delivery.duration")?.descriptor;
  expect(descriptor?.unit).toBe("s");
});

test("a duplicate: outcome duplicate, 200, no error; counted as a duplicate", async () => {
  const delivery = crazyhorseDelivery();
  await send(delivery);
  otel.reset();
  const before = countOf(await otel.collect(), "imagegen_webhooks.deliveries", { "imagegen_webhooks.outcome": "duplicate" });
  expect((await send(delivery)).status).toBe(200);
  expect(receiveSpans()[0]?.attributes).toMatchObject({ "imagegen_webhooks.outcome": "duplicate", "http.response.status_code": 200 });
  expect(receiveSpans()[0]?.status.code).toBe(SpanStatusCode.UNSET);
  expect(countOf(await otel.collect(), "imagegen_webhooks.deliveries", { "imagegen_webhooks.outcome": "duplicate" })).toBe(before + 1);
});

test.each([
  ["a wrong token", () => send(crazyhorseDelivery(), "not-the-token"), 401, "auth.failed"],
  ["a body that is not JSON", () => send("{not json"), 400, "json.malformed"],
  ["a payload that fails its schema", () => send({ state: 1 }), 400, "schema.invalid"],
])("%s: refused, the span's status an error with the reason, counted by reason", async (_label, sendIt, status, reason) => {
  const before = countOf(await otel.collect(), "imagegen_webhooks.deliveries", { "error.type": reason });
  expect((await sendIt()).status).toBe(status);
  const [span] = receiveSpans();
  expect(span?.name).toBe("webhook receive crazyhorse");
  expect(span?.attributes).toEqual({
    "imagegen_webhooks.provider": "crazyhorse",
    "imagegen_webhooks.outcome": "refused",
    "http.response.status_code": status,
    "error.type": reason,
  });
  expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: reason });
  const counted = countOf(await otel.collect(), "imagegen_webhooks.deliveries", {
    "imagegen_webhooks.outcome": "refused",
    "error.type": reason,
  });
  expect(counted).toBe(before + 1);
});

test("a refusal before the body (a GET) is a span and a count too", async () => {
  const app = express().use("/webhooks", webhooks.middleware());
  await request(app).get("/webhooks/crazyhorse").expect(405);
  expect(receiveSpans()[0]?.attributes).toMatchObject({ "error.type": "method.not-allowed", "http.response.status_code": 405 });
});

test("each listener is a child span of the delivery's; a failing one records its exception, and the delivery fails with 500", async () => {
  webhooks.on("crazyhorse.done", () => {});
  webhooks.on("generation", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new TypeError("listener broke");
  });
  const failuresBefore = countOf(await otel.collect(), "imagegen_webhooks.listener.failures", {});
  expect((await send(crazyhorseDelivery())).status).toBe(500);

  const [delivery] = receiveSpans();
  const listeners = otel.spans().filter((span) => span.name.startsWith("webhook listener"));
  expect(listeners.map((span) => span.name)).toEqual(["webhook listener crazyhorse.done", "webhook listener generation"]);
  for (const span of listeners) expect(span.parentSpanContext?.spanId).toBe(delivery?.spanContext().spanId);
  const failed = listeners[1];
  expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
  expect(failed?.attributes).toEqual({ "imagegen_webhooks.event.name": "generation", "error.type": "TypeError" });
  expect(failed?.events.map((event) => [event.name, event.attributes?.["exception.message"]])).toEqual([["exception", "listener broke"]]);
  expect(delivery?.status).toEqual({ code: SpanStatusCode.ERROR, message: "failed" });
  expect(delivery?.attributes).toMatchObject({ "imagegen_webhooks.outcome": "failed", "http.response.status_code": 500 });

  const metrics = await otel.collect();
  expect(countOf(metrics, "imagegen_webhooks.listener.failures", { "imagegen_webhooks.event.name": "generation" })).toBe(
    failuresBefore + 1,
  );
  expect(pointsOf(metrics, "imagegen_webhooks.listener.duration").length).toBeGreaterThan(0);
});

test("a span the listener starts is the listener span's child; a listener past handlerTimeoutMs is 202 (timed-out), no error", async () => {
  webhooks.on("crazyhorse.done", async () => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    trace.getTracer("host").startSpan("host work").end();
  });
  expect((await send(crazyhorseDelivery())).status).toBe(202);
  expect(receiveSpans()[0]?.attributes).toMatchObject({ "imagegen_webhooks.outcome": "timed-out", "http.response.status_code": 202 });
  expect(receiveSpans()[0]?.status.code).toBe(SpanStatusCode.UNSET);
  await webhooks.close();
  const listener = otel.spans().find((span) => span.name === "webhook listener crazyhorse.done");
  const host = otel.spans().find((span) => span.name === "host work");
  expect(host?.parentSpanContext?.spanId).toBe(listener?.spanContext().spanId);
});

test("the HTTP span of the host, when there is one, is the delivery span's parent", async () => {
  const http = trace.getTracer("host-http").startSpan("POST /webhooks/crazyhorse");
  await context.with(trace.setSpan(context.active(), http), () => send(crazyhorseDelivery()));
  http.end();
  expect(receiveSpans()[0]?.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
});

/** A 503 after close(), as the metrics have it; its span has the status beside. */
const closing = {
  "imagegen_webhooks.provider": "crazyhorse",
  "imagegen_webhooks.outcome": "closing",
  "error.type": "receiver.closing",
};
const closingSpan = { ...closing, "http.response.status_code": 503 };

test("a delivery after close(): 503, a span and a count with the outcome closing", async () => {
  const before = countOf(await otel.collect(), "imagegen_webhooks.deliveries", closing);
  await webhooks.close();
  expect((await send(crazyhorseDelivery())).status).toBe(503);
  const [span] = receiveSpans();
  expect(receiveSpans()).toHaveLength(1);
  expect(span?.name).toBe("webhook receive crazyhorse");
  expect(span?.attributes).toEqual(closingSpan);
  expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: "receiver.closing" });
  expect(countOf(await otel.collect(), "imagegen_webhooks.deliveries", closing)).toBe(before + 1);
});

test("a delivery whose body was still arriving when close() began: its 503 is recorded too", async () => {
  let push: ReadableStreamDefaultController<Uint8Array> | undefined;
  const body = new ReadableStream<Uint8Array>({ start: (controller) => void (push = controller) });
  const answered = webhooks.fetch(
    new Request(`http://localhost/crazyhorse?token=${SECRET}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    }),
  );
  // Admitted in the call itself: the handler now waits for the body.
  await webhooks.close();
  push?.enqueue(new TextEncoder().encode(JSON.stringify(crazyhorseDelivery())));
  push?.close();
  expect((await answered).status).toBe(503);
  expect(receiveSpans().map((span) => span.attributes)).toEqual([closingSpan]);
});

/** A 404 for no provider, as the metrics have it: its outcome alone, no provider and never the path. */
const notFound = { "imagegen_webhooks.outcome": "not-found", "error.type": "route.not-found" };
const notFoundCount = async () => countOf(await otel.collect(), "imagegen_webhooks.deliveries", notFound);

test("a 404 for no provider (receive(), a bare server, fetch()): recorded by its outcome alone", async () => {
  const before = await notFoundCount();
  const probe = `probe-${randomUUID()}`;
  const statuses = [
    (await webhooks.receive({ provider: probe, headers: {}, rawBody: "{}" })).status,
    (await request(webhooks.middleware()).post(`/${probe}?token=${probe}`).send("{}")).status,
    (await webhooks.fetch(new Request(`http://localhost/${probe}/crazyhorse`, { method: "POST", body: "{}" }))).status,
  ];
  expect(statuses).toEqual([404, 404, 404]);

  const recorded = receiveSpans().map((span) => [span.name, span.attributes, span.status]);
  const expected = [
    "webhook receive",
    { ...notFound, "http.response.status_code": 404 },
    { code: SpanStatusCode.ERROR, message: "route.not-found" },
  ];
  expect(recorded).toEqual([expected, expected, expected]);
  const metrics = await otel.collect();
  expect(countOf(metrics, "imagegen_webhooks.deliveries", notFound)).toBe(before + 3);
  for (const name of ["imagegen_webhooks.deliveries", "imagegen_webhooks.delivery.duration"]) {
    const points = pointsOf(metrics, name).filter((point) => point.attributes["imagegen_webhooks.outcome"] === "not-found");
    expect(points.map((point) => point.attributes)).toEqual([notFound]);
  }
});

test("a path Express passes on to next() is the host's: no span, no count", async () => {
  const before = await notFoundCount();
  const app = express().use("/webhooks", webhooks.middleware());
  await request(app).post("/webhooks/nothing").send("{}").expect(404);
  await request(app).get("/elsewhere").expect(404);
  expect(receiveSpans()).toEqual([]);
  expect(await notFoundCount()).toBe(before);
});
