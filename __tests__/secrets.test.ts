import { randomBytes } from "node:crypto";
import express from "express";
import request from "supertest";
import { createWebhooks, type Logger } from "../lib/entries/index";
import { allImagesDelivery, crazyhorseDelivery, signDelivery } from "../lib/entries/testing";

// Secrets never reach a log line, an answer or an `invalid` event, whatever goes wrong.
const TOKEN = `tok-${randomBytes(16).toString("hex")}`;
const OLD_TOKEN = `tok-${randomBytes(16).toString("hex")}`;
const SIGNING_KEY = randomBytes(32).toString("base64");
const SIGNING_SECRET = `whsec_${SIGNING_KEY}`;
const SECRETS = [TOKEN, OLD_TOKEN, SIGNING_SECRET, SIGNING_KEY];

/** Everything a logger was given, as text: messages, fields, and errors with their causes and stacks. */
function capturingLogger(): { logger: Logger; text: () => string } {
  const records: unknown[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void records.push({ level, obj, msg });
  const serialize = (_: string, value: unknown) =>
    value instanceof Error ? { ...value, message: value.message, stack: value.stack, cause: value.cause } : value;
  return {
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    text: () => JSON.stringify(records, serialize),
  };
}

test("no secret appears in logs, answers or `invalid` events, across every kind of refusal and failure", async () => {
  const { logger, text } = capturingLogger();
  const webhooks = createWebhooks({
    providers: {
      crazyhorse: { secret: [TOKEN, OLD_TOKEN] },
      "all-images": { secret: TOKEN, signature: { secret: SIGNING_SECRET } },
    },
    logger,
    handlerTimeoutMs: 50,
  });
  const invalid: unknown[] = [];
  webhooks.on("invalid", (event) => void invalid.push(event));
  // Listeners that fail, late and at once, so the error paths log too (with no `error` listener: the logger gets them).
  webhooks.on("crazyhorse.failed", () => {
    throw new Error("listener failed");
  });
  webhooks.on("crazyhorse.error", () => new Promise((_, reject) => setTimeout(() => reject(new Error("late failure")), 100)));

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  const ch = () => JSON.stringify(crazyhorseDelivery({ state: "WAITING" }));
  const answers = await Promise.all([
    request(app).post("/webhooks/crazyhorse").type("json").send(ch()),
    request(app).post(`/webhooks/crazyhorse?token=${TOKEN}x`).type("json").send(ch()),
    request(app)
      .post("/webhooks/crazyhorse")
      .set("authorization", `Bearer ${OLD_TOKEN.slice(0, -1)}`)
      .type("json")
      .send(ch()),
    request(app).post(`/webhooks/crazyhorse?token=${TOKEN}`).type("json").send("{not json"),
    request(app).post(`/webhooks/crazyhorse?token=${TOKEN}`).type("json").send('{"state":1}'),
    request(app).post(`/webhooks/crazyhorse?token=${TOKEN}`).type("text").send(ch()),
    request(app)
      .post(`/webhooks/crazyhorse?token=${TOKEN}`)
      .type("json")
      .send(JSON.stringify(crazyhorseDelivery({ state: "FAILED" }))),
    request(app)
      .post(`/webhooks/crazyhorse?token=${OLD_TOKEN}`)
      .type("json")
      .send(JSON.stringify(crazyhorseDelivery({ state: "ERROR" }))),
    request(app).post("/webhooks/all-images").set("x-webhook-token", TOKEN).type("json").send(JSON.stringify(allImagesDelivery())),
    (() => {
      const body = JSON.stringify(allImagesDelivery());
      const signed = signDelivery(body, { secret: SIGNING_SECRET, timestamp: Date.now() / 1000 - 3600 });
      return request(app).post("/webhooks/all-images").set("x-webhook-token", TOKEN).set(signed).type("json").send(body);
    })(),
    (() => {
      const body = JSON.stringify(allImagesDelivery());
      return request(app)
        .post("/webhooks/all-images")
        .set("x-webhook-token", TOKEN)
        .set(signDelivery(body, { secret: SIGNING_SECRET }))
        .type("json")
        .send(body);
    })(),
    request(app).get(`/webhooks/crazyhorse?token=${TOKEN}`),
  ]);
  await webhooks.close(); // the late failure has been logged by now

  expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 400, 400, 415, 500, 202, 401, 401, 200, 405]);
  const everything = [text(), JSON.stringify(invalid), ...answers.map((a) => `${JSON.stringify(a.headers)}\n${a.text}`)].join("\n");
  expect(text()).toMatch(/late failure/); // the logger did see the failures
  for (const secret of SECRETS) expect(everything).not.toContain(secret);
});
