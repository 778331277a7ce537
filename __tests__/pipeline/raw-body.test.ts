// Stage 2, the raw body: read up to `limit` (413 beyond), inflated where it is gzip-encoded, and
// taken from a body parser the host mounted before the middleware.
import type { IncomingMessage } from "node:http";
import { gzipSync } from "node:zlib";
import express from "express";
import request from "supertest";
import type { Logger, WebhooksOptions } from "imagegen-webhooks";
import {
  AI_SECRET,
  aiDelivery,
  chDelivery,
  closeAll,
  expectCrazyhorseOk,
  expectOnlyInvalid,
  expectProblem,
  HOSTS,
  MARKER,
  postAllImages,
  postCrazyhorse,
  rawRequest,
  receiver,
  record,
  SECRET,
  serve,
  setup,
  sized,
} from "../helpers/middleware";

afterEach(closeAll);

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("body size (limit)", () => {
    test("the default limit is 100kb: 102400 bytes are accepted, 102401 are refused with 413", async () => {
      const s = await setup(kind);
      const at = await postCrazyhorse(s, sized(chDelivery(), 102_400));
      expectCrazyhorseOk(at);
      expect(s.rec.names).toEqual(["crazyhorse.done"]);

      const over = await postCrazyhorse(s, sized(chDelivery(), 102_401));
      expectProblem(over, 413, "entity.too.large");
      expect(s.rec.names).toEqual(["crazyhorse.done"]);
      expect(s.rec.invalid).toEqual([{ provider: "crazyhorse", status: 413, reason: "entity.too.large" }]);
    });

    test("a custom limit (`2kb`) is the bound: 2048 bytes accepted, 2049 refused with 413 and only `invalid` emitted", async () => {
      const s = await setup(kind, { limit: "2kb" });
      expectCrazyhorseOk(await postCrazyhorse(s, sized(chDelivery(), 2048)));
      s.rec.events.length = 0;
      s.rec.names.length = 0;
      const res = await postCrazyhorse(s, sized(chDelivery(), 2049));
      expectProblem(res, 413, "entity.too.large");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 413, reason: "entity.too.large" });
    });

    test("a numeric limit is a number of bytes", async () => {
      const s = await setup(kind, { limit: 1500 });
      expect((await postAllImages(s, sized(aiDelivery(), 1500))).status).toBe(200);
      expectProblem(await postAllImages(s, sized(aiDelivery(), 1501)), 413, "entity.too.large");
    });

    test("a chunked body with no Content-Length is bounded too: 413 past the limit", async () => {
      const s = await setup(kind, { limit: "4kb" });
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "content-type": "application/json", "transfer-encoding": "chunked", "x-webhook-token": SECRET },
        Buffer.from(sized(chDelivery(), 4097)),
      );
      expectProblem(res, 413, "entity.too.large");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 413, reason: "entity.too.large" });
    });

    test("a gzip-encoded body is inflated and accepted", async () => {
      const s = await setup(kind);
      const delivery = chDelivery();
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "content-type": "application/json", "content-encoding": "gzip", "x-webhook-token": SECRET },
        gzipSync(JSON.stringify(delivery)),
      );
      expectCrazyhorseOk(res);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
    });

    test("a gzip-encoded body that inflates past the limit is refused with 413, though its compressed size is far below", async () => {
      const s = await setup(kind);
      const compressed = gzipSync(sized(chDelivery(), 300_000));
      expect(compressed.byteLength).toBeLessThan(10_000);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "content-type": "application/json", "content-encoding": "gzip", "x-webhook-token": SECRET },
        compressed,
      );
      expectProblem(res, 413, "entity.too.large");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 413, reason: "entity.too.large" });
    });

    test("a gzip-encoded body over a custom limit once inflated is refused with 413", async () => {
      const s = await setup(kind, { limit: "1kb" });
      const res = await rawRequest(
        s.server,
        `${s.prefix}/all-images`,
        { "content-type": "application/json", "content-encoding": "gzip", "x-webhook-token": AI_SECRET },
        gzipSync(sized(aiDelivery(), 1025)),
      );
      expectProblem(res, 413, "entity.too.large");
      expectOnlyInvalid(s.rec, { provider: "all-images", status: 413, reason: "entity.too.large" });
    });

    test("a content encoding it cannot decode is refused with 415 problem+json", async () => {
      const s = await setup(kind);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "content-type": "application/json", "content-encoding": "x-unknown", "x-webhook-token": SECRET },
        Buffer.from(JSON.stringify(chDelivery())),
      );
      expectProblem(res, 415, "encoding.unsupported");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 415, reason: "encoding.unsupported" });
    });

    test("a body that claims gzip but does not inflate is a client error: 400 problem+json, only `invalid` emitted (not a 500 the provider would retry)", async () => {
      const s = await setup(kind);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse`,
        { "content-type": "application/json", "content-encoding": "gzip", "x-webhook-token": SECRET },
        Buffer.from(JSON.stringify(chDelivery())),
      );
      expect(res.status).toBe(400);
      expect(res.headers["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(res.text)).toMatchObject({ status: 400 });
      expect(res.text).not.toContain(MARKER);
      expect(s.rec.events).toEqual([]);
      expect(s.rec.invalid).toEqual([expect.objectContaining({ provider: "crazyhorse", status: 400 })]);
    });
  });
});

describe("Express: body parsers mounted before the middleware", () => {
  function spyLogger() {
    const warn = jest.fn();
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn, error: () => undefined };
    return { logger, warn };
  }

  async function hostWith(parsers: express.RequestHandler[], options: Partial<WebhooksOptions> = {}) {
    const webhooks = receiver(options);
    const rec = record(webhooks);
    const app = express();
    for (const parser of parsers) app.use(parser);
    app.use("/webhooks", webhooks.middleware());
    app.post("/api/echo", (req, res) => void res.json({ got: req.body as unknown }));
    return { webhooks, rec, http: request(await serve(app)) };
  }

  test("express.json({ verify }) keeping req.rawBody: deliveries accepted and emitted, with no warning", async () => {
    const { logger, warn } = spyLogger();
    const keepRaw = express.json({
      verify: (req, _res, buf) => {
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
      },
    });
    const { rec, http } = await hostWith([keepRaw], { logger });
    const ch = chDelivery();
    const ai = aiDelivery();
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(ch));
    expect((await http.post(`/webhooks/all-images?token=${AI_SECRET}`).send(ai)).status).toBe(200);
    expect(rec.events.map((e) => e.payload)).toEqual([ch, ai]);
    expect(warn).not.toHaveBeenCalled();

    // The host's own JSON routes still get their parsed body.
    const echo = await http.post("/api/echo").send({ a: 1 });
    expect(echo.body).toEqual({ got: { a: 1 } });
  });

  test("express.json({ verify }): the limit still holds on the kept raw bytes (413)", async () => {
    const keepRaw = express.json({
      limit: "1mb",
      verify: (req, _res, buf) => {
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
      },
    });
    const { rec, http } = await hostWith([keepRaw]);
    const res = await http
      .post("/webhooks/crazyhorse")
      .set("x-webhook-token", SECRET)
      .set("content-type", "application/json")
      .send(sized(chDelivery(), 150_000));
    expectProblem(res, 413, "entity.too.large");
    expectOnlyInvalid(rec, { provider: "crazyhorse", status: 413, reason: "entity.too.large" });
  });

  test("express.json() without verify: deliveries still accepted and emitted; the logger is told once what to change", async () => {
    const { logger, warn } = spyLogger();
    const { rec, http } = await hostWith([express.json()], { logger });
    const first = chDelivery();
    const second = chDelivery({ state: "WAITING" });
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(first));
    expectCrazyhorseOk(await http.post(`/webhooks/crazyhorse?token=${SECRET}`).send(second));
    expect(rec.events.map((e) => e.payload)).toEqual([first, second]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[1])).toMatch(/express\.json|rawBody/);
  });

  test("express.json() without verify: checks still apply (401 wrong token, 400 schema)", async () => {
    const { rec, http } = await hostWith([express.json()]);
    expectProblem(await http.post("/webhooks/crazyhorse").set("x-webhook-token", "wrong").send(chDelivery()), 401, "auth.failed");
    const schema = await http
      .post("/webhooks/all-images")
      .set("x-webhook-token", AI_SECRET)
      .send({ id: "evt_1", type: "print.created", data: {}, note: MARKER });
    expectProblem(schema, 400, "schema.invalid", [{ instancePath: "/data", message: "must have required property 'id'" }]);
    expect(rec.events).toEqual([]);
    expect(rec.invalid.map((i) => i.reason)).toEqual(["auth.failed", "schema.invalid"]);
  });

  test("express.raw({ type: '*/*' }): deliveries accepted and emitted; a wrong content type is still 415", async () => {
    const { rec, http } = await hostWith([express.raw({ type: "*/*" })]);
    const delivery = aiDelivery();
    expect((await http.post("/webhooks/all-images").set("x-webhook-token", AI_SECRET).send(delivery)).status).toBe(200);
    expect(rec.events.map((e) => e.payload)).toEqual([delivery]);
    const res = await http
      .post("/webhooks/all-images")
      .set("x-webhook-token", AI_SECRET)
      .set("content-type", "text/plain")
      .send(JSON.stringify(aiDelivery()));
    expectProblem(res, 415, "content-type.unsupported");
  });

  test("express.text({ type: '*/*' }): deliveries accepted and emitted; the dedupe still recognizes a retry", async () => {
    const { rec, http } = await hostWith([express.text({ type: "*/*" })]);
    const delivery = chDelivery();
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(delivery));
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(delivery));
    expect(rec.events.map((e) => e.payload)).toEqual([delivery]);
    expect(rec.duplicates).toHaveLength(1);
  });

  test("express.urlencoded() before does not break a JSON delivery", async () => {
    const { rec, http } = await hostWith([express.urlencoded({ extended: false })]);
    const delivery = chDelivery();
    expectCrazyhorseOk(await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(delivery));
    expect(rec.events.map((e) => e.payload)).toEqual([delivery]);
  });

  test("express.json() and express.urlencoded() together, and a form-encoded delivery is still 415", async () => {
    const { rec, http } = await hostWith([express.json(), express.urlencoded({ extended: false })]);
    const delivery = aiDelivery();
    expect((await http.post("/webhooks/all-images").set("x-webhook-token", AI_SECRET).send(delivery)).status).toBe(200);
    const form = await http
      .post("/webhooks/all-images")
      .set("x-webhook-token", AI_SECRET)
      .type("form")
      .send({ id: "evt_form", type: "print.created" });
    expectProblem(form, 415, "content-type.unsupported");
    expect(rec.events.map((e) => e.payload)).toEqual([delivery]);
  });
});
