import express from "express";
import request from "supertest";
import { createWebhooks, type Logger } from "../lib";
import { crazyhorseDelivery } from "../lib/testing";

const TOKEN = "logging-token";

function capture() {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) =>
    void lines.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? "" });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const deliveryLines = () => lines.filter((line) => "outcome" in line.obj);
  return { logger, lines, deliveryLines };
}

test("each delivery is logged once, with its id, provider, event, outcome, status and duration", async () => {
  const { logger, deliveryLines } = capture();
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, logger, handlerTimeoutMs: 30 });
  webhooks.on("crazyhorse.failed", () => {
    throw new Error("boom");
  });
  webhooks.on("crazyhorse.running", () => new Promise((resolve) => setTimeout(resolve, 60)));
  const app = express();
  app.use("/webhooks", webhooks.middleware());
  const post = (body: object, token = TOKEN) =>
    request(app).post(`/webhooks/crazyhorse?token=${token}`).type("json").send(JSON.stringify(body));

  const done = crazyhorseDelivery();
  await post(done);
  await post(done);
  await post(crazyhorseDelivery(), "wrong");
  await post(crazyhorseDelivery({ state: "FAILED" }));
  await post(crazyhorseDelivery({ state: "RUNNING" }));
  await request(app).get("/webhooks/crazyhorse");
  await webhooks.close();
  await post(crazyhorseDelivery());

  const lines = deliveryLines();
  expect(lines.map(({ level, obj }) => [level, obj.outcome, obj.status])).toEqual([
    ["info", "handled", 200],
    ["info", "duplicate", 200],
    ["info", "refused", 401],
    ["warn", "failed", 500],
    ["warn", "timed-out", 202],
    ["info", "refused", 405],
    ["warn", "closing", 503],
  ]);
  expect(lines[0]?.obj).toEqual({
    provider: "crazyhorse",
    deliveryId: `${done.code}:done`,
    event: "crazyhorse.done",
    outcome: "handled",
    status: 200,
    durationMs: expect.any(Number),
  });
  expect(lines[2]?.obj).toMatchObject({ provider: "crazyhorse", reason: "auth.failed" });
  for (const { obj } of lines) expect(obj.durationMs).toBeGreaterThanOrEqual(0);
  expect(lines[4]?.obj.durationMs).toBeGreaterThanOrEqual(25);
});
