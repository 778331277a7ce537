import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import express, { type RequestHandler } from "express";
import request from "supertest";
import { createWebhooks, type Logger } from "../../lib/entries/index";
import { crazyhorseDelivery, signDelivery } from "../../lib/entries/testing";

// Every arrangement of body parsers a host app may have before the middleware, with a token-only
// provider (crazyhorse) and a signing one (all-images here, configured with a signature).
const TOKEN = "token-for-parser-tests";
const SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;

function capturingLogger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_: object, msg?: string) => void lines.push({ level, msg: msg ?? "" });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { logger, lines };
}

function app(before: RequestHandler[]) {
  const { logger, lines } = capturingLogger();
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: TOKEN, path: "/token" }, "all-images": { signature: { secret: SIGNING_SECRET }, path: "/signed" } },
    logger,
  });
  const emitted: string[] = [];
  webhooks.on("*", (event) => void emitted.push(event.provider));
  const server = express();
  for (const parser of before) server.use(parser);
  server.use("/webhooks", webhooks.middleware());
  // The host's own JSON route must keep working beside the webhooks.
  server.post("/api/echo", (req, res) => void res.json({ got: req.body ?? null }));
  return { server, lines, emitted };
}

/** Sends one delivery whose bytes are not what JSON.stringify would give (spaces), so a re-serialized body cannot pass a signature. */
async function deliver(server: express.Express, to: "token" | "signed") {
  const body = JSON.stringify(crazyhorseDelivery({ state: "WAITING" }), null, 1);
  const req = request(server).post(`/webhooks/${to}`).set("content-type", "application/json");
  if (to === "token") return req.set("x-webhook-token", TOKEN).send(body);
  // all-images' schema would refuse a crazyhorse body: use a real all-images one for the signed route.
  const signed = JSON.stringify({ id: `evt_${randomBytes(4).toString("hex")}`, type: "print.created", data: { id: "gen_1" } }, null, 1);
  return request(server)
    .post(`/webhooks/${to}`)
    .set("content-type", "application/json")
    .set(signDelivery(signed, { secret: SIGNING_SECRET }))
    .send(signed);
}

const keepRawBody = (req: IncomingMessage, _res: unknown, buf: Buffer) =>
  void ((req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf);

describe.each([
  ["nothing", [] as RequestHandler[], { token: 200, signed: 200 }],
  ["express.json() with a verify that keeps req.rawBody", [express.json({ verify: keepRawBody })], { token: 200, signed: 200 }],
  ["express.raw({ type: '*/*' })", [express.raw({ type: "*/*" })], { token: 200, signed: 200 }],
  ["express.text() (text/plain only: a JSON delivery is left alone)", [express.text()], { token: 200, signed: 200 }],
  [
    "express.urlencoded() (forms only: a JSON delivery is left alone)",
    [express.urlencoded({ extended: false })],
    { token: 200, signed: 200 },
  ],
  ["express.json() without verify", [express.json()], { token: 200, signed: 500 }],
  ["express.text({ type: '*/*' })", [express.text({ type: "*/*" })], { token: 200, signed: 500 }],
])("mounted after %s", (_, before, expected) => {
  test(`a token-authenticated delivery answers ${expected.token}, a signed one ${expected.signed}`, async () => {
    const { server, emitted } = app(before);
    expect((await deliver(server, "token")).status).toBe(expected.token);
    const signed = await deliver(server, "signed");
    expect(signed.status).toBe(expected.signed);
    expect(emitted).toEqual(expected.signed === 200 ? ["crazyhorse", "all-images"] : ["crazyhorse"]);
    if (expected.signed === 500) {
      expect(signed.headers["content-type"]).toBe("application/problem+json");
      const problem = JSON.parse(signed.text) as { detail?: string };
      expect(problem).toMatchObject({ status: 500, type: "urn:imagegen-webhooks:problem:body.unavailable" });
      // RFC 9457 `detail`: what to change, and nothing of the request.
      expect(problem.detail).toMatch(/Mount the webhooks middleware before express\.json\(\), or keep the raw bytes/);
      expect(signed.text).not.toContain(SIGNING_SECRET);
    }
  });

  if (expected.signed === 500) {
    test("the 500 is logged once, at error level, saying what to change, with no contradicting warning beside it", async () => {
      const warnings = jest.spyOn(process, "emitWarning");
      const { server, lines } = app(before);
      await deliver(server, "signed");
      await deliver(server, "signed");
      expect(lines.filter((line) => line.level === "error" || line.level === "warn")).toHaveLength(1);
      const errors = lines.filter((line) => line.level === "error");
      expect(errors).toHaveLength(1);
      expect(errors[0]?.msg).toMatch(/Mount the webhooks middleware before express\.json\(\)/);
      expect(errors[0]?.msg).toMatch(/verify/);
      // A logger set takes it: no process warning besides.
      expect(warnings).not.toHaveBeenCalled();
      warnings.mockRestore();
    });

    test("with no logger, the mistake reaches the developer as one process warning", async () => {
      const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
      try {
        const webhooks = createWebhooks({ providers: { "all-images": { signature: { secret: SIGNING_SECRET }, path: "/signed" } } });
        const server = express();
        for (const parser of before) server.use(parser);
        server.use("/webhooks", webhooks.middleware());
        expect((await deliver(server, "signed")).status).toBe(500);
        expect((await deliver(server, "signed")).status).toBe(500);
        const said = warnings.mock.calls.filter(([message]) => String(message).startsWith("imagegen-webhooks:"));
        expect(said).toHaveLength(1);
        expect(String(said[0]?.[0])).toMatch(/cannot be checked[\s\S]*Mount the webhooks middleware before express\.json\(\)/);
      } finally {
        warnings.mockRestore();
      }
    });
  }

  test("the host app's own routes are untouched", async () => {
    const { server } = app(before);
    const res = await request(server).post("/api/echo").set("content-type", "application/json").send('{"a":1}');
    expect(res.status).toBe(200);
  });
});

test("a re-serialized body still authenticates by token and passes the schema, and the fallback is logged once as a warning", async () => {
  const { server, lines, emitted } = app([express.json()]);
  expect((await deliver(server, "token")).status).toBe(200);
  expect((await deliver(server, "token")).status).toBe(200);
  expect(emitted).toEqual(["crazyhorse", "crazyhorse"]);
  expect(lines.filter((line) => line.level === "warn" && /re-serialized/.test(line.msg))).toHaveLength(1);
});
