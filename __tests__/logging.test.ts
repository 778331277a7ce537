import { Console } from "node:console";
import { PassThrough } from "node:stream";
import express from "express";
import request from "supertest";
import { createWebhooks, type Logger } from "../lib/entries/index";
import { crazyhorseDelivery } from "../lib/entries/testing";

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

describe("a value from a request cannot forge a log line, with logger: console", () => {
  /** A console writing to a string, as `logger: console` writes to a terminal or a log file. */
  function consoleLogger() {
    let text = "";
    const stream = new PassThrough();
    stream.on("data", (chunk: Buffer) => void (text += chunk.toString()));
    const logger = new Console({ stdout: stream, stderr: stream });
    const lines = () => text.split(/\r\n|\r|\n/);
    return { logger, output: () => text, lines };
  }
  const FORGED = "imagegen-webhooks: FORGED by the sender";
  const INJECTIONS = [`\n${FORGED}`, `\r${FORGED}`, `\u001b[2K\r${FORGED}`, `\u0085${FORGED}`];

  test.each(INJECTIONS)("a `provider` option taken from the URL (%j) is logged escaped", async (injection) => {
    const { logger, output, lines } = consoleLogger();
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, logger });
    const answer = await webhooks.fetch(new Request("https://app.example/api/webhooks/x", { method: "POST" }), {
      provider: `nobody${injection}`,
    });
    expect(answer.status).toBe(404);
    expect(output()).toContain("FORGED");
    expect(lines().filter((line) => line.startsWith(FORGED))).toEqual([]);
    // Each line ends with the one LF the console writes; no other control character is printed.
    expect(output().replace(/\n/g, "")).not.toMatch(/\p{Cc}/u);
  });

  test.each(INJECTIONS)("a crazyhorse `state` (%j) is logged escaped, in the middleware and in fetch()", async (injection) => {
    const { logger, output, lines } = consoleLogger();
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, logger });
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    const body = (code: string) => JSON.stringify(crazyhorseDelivery({ code, state: `DONE${injection}` }));
    const res = await request(app).post(`/webhooks/crazyhorse?token=${TOKEN}`).type("json").send(body("forged-1"));
    expect(res.status).toBe(200);
    const answer = await webhooks.fetch(
      new Request(`https://app.example/crazyhorse?token=${TOKEN}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body("forged-2"),
      }),
    );
    expect(answer.status).toBe(200);
    await webhooks.close();
    expect(output().toUpperCase()).toContain("FORGED");
    expect(lines().filter((line) => line.toUpperCase().startsWith(FORGED.toUpperCase()))).toEqual([]);
    // Each line ends with the one LF the console writes; no other control character is printed.
    expect(output().replace(/\n/g, "")).not.toMatch(/\p{Cc}/u);
  });

  test.each(INJECTIONS)("a failed listener's log names the event and delivery escaped (state %j)", async (injection) => {
    const { logger, output, lines } = consoleLogger();
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, logger });
    webhooks.on("*", () => {
      throw new Error("the listener's own failure");
    });
    const res = await request(express().use("/webhooks", webhooks.middleware()))
      .post(`/webhooks/crazyhorse?token=${TOKEN}`)
      .type("json")
      .send(JSON.stringify(crazyhorseDelivery({ code: `code${injection}`, state: `DONE${injection}` })));
    expect(res.status).toBe(500);
    await webhooks.close();
    expect(output()).toContain("the listener's own failure");
    expect(lines().filter((line) => line.toUpperCase().startsWith(FORGED.toUpperCase()))).toEqual([]);
    expect(output().replace(/\n/g, "")).not.toMatch(/\p{Cc}/u);
  });
});
