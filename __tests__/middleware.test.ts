/**
 * The HTTP contract of `webhooks.middleware()` (DESIGN.md, "The pipeline of one delivery, and its
 * answers"), over real HTTP: in an Express app (`app.use("/webhooks", webhooks.middleware())`) and
 * on a bare `http.createServer(webhooks.middleware())`.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import express from "express";
import request from "supertest";
import {
  createWebhooks,
  type AnyWebhookEvent,
  type DedupeStore,
  type InvalidDelivery,
  type Logger,
  type SchemaError,
  type WebhookHandlerError,
  type Webhooks,
  type WebhooksOptions,
} from "imagegen-webhooks";
import { allImagesDelivery, crazyhorseDelivery } from "imagegen-webhooks/testing";
import { deferred } from "./helpers/deferred";

const SECRET = "crazyhorse-middleware-secret-7f3a";
const AI_SECRET = "all-images-middleware-secret-91bc";
/** Put in every test body: no answer and no `invalid` event may ever contain it. */
const MARKER = "body-marker-must-not-be-echoed-5d1e";
const PROBLEM_PREFIX = "urn:imagegen-webhooks:problem:";

const TITLES = {
  "route.not-found": "Not Found",
  "method.not-allowed": "Method Not Allowed",
  "entity.too.large": "Payload Too Large",
  "request.invalid": "Bad Request",
  "content-type.unsupported": "Unsupported Media Type",
  "encoding.unsupported": "Unsupported Content Encoding",
  "auth.failed": "Unauthorized",
  "json.malformed": "Malformed JSON",
  "schema.invalid": "Payload Does Not Match The Schema",
  "delivery.in-flight": "Delivery Already In Progress",
  "store.unavailable": "Dedupe Store Unavailable",
  "handler.failed": "Handler Failed",
} as const;
type Code = keyof typeof TITLES;

// ---------------------------------------------------------------------------------------------
// Servers, receivers and what they emit

const servers: Server[] = [];
const receivers: Webhooks[] = [];

async function serve(listener: RequestListener): Promise<Server> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return server;
}

afterEach(async () => {
  // Every held listener is released by its test; close() waits for the ones still running.
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

function receiver(options: Partial<WebhooksOptions> = {}): Webhooks {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: AI_SECRET } },
    ...options,
  });
  receivers.push(webhooks);
  return webhooks;
}

/** Everything a receiver emits outside the providers' own names. */
function record(webhooks: Webhooks) {
  const rec = {
    events: [] as AnyWebhookEvent[],
    names: [] as string[],
    invalid: [] as InvalidDelivery[],
    duplicates: [] as AnyWebhookEvent[],
    errors: [] as WebhookHandlerError[],
  };
  webhooks.on("*", (event) => {
    rec.events.push(event);
    rec.names.push(event.name);
  });
  webhooks.on("invalid", (invalid) => void rec.invalid.push(invalid));
  webhooks.on("duplicate", (event) => void rec.duplicates.push(event));
  webhooks.on("error", (err) => void rec.errors.push(err));
  return rec;
}
type Recording = ReturnType<typeof record>;

type HostKind = "express" | "bare";
const HOSTS: [string, HostKind][] = [
  ["Express app.use('/webhooks', middleware)", "express"],
  ["bare http.createServer(middleware)", "bare"],
];

interface Setup {
  webhooks: Webhooks;
  rec: Recording;
  server: Server;
  /** The mount point: `/webhooks` in Express, nothing on the bare server. */
  prefix: string;
  http: ReturnType<typeof request>;
}

async function setup(kind: HostKind, options: Partial<WebhooksOptions> = {}): Promise<Setup> {
  const webhooks = receiver(options);
  const rec = record(webhooks);
  let server: Server;
  let prefix: string;
  if (kind === "express") {
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    server = await serve(app);
    prefix = "/webhooks";
  } else {
    server = await serve(webhooks.middleware());
    prefix = "";
  }
  return { webhooks, rec, server, prefix, http: request(server) };
}

// ---------------------------------------------------------------------------------------------
// Requests and answers

interface Answer {
  status: number;
  headers: IncomingHttpHeaders | Record<string, string>;
  text: string;
}

/** A request with exactly these headers and these bytes (supertest would serialize a Buffer sent as JSON). */
function rawRequest(server: Server, path: string, headers: Record<string, string>, body?: Buffer, method = "POST"): Promise<Answer> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        agent: false,
        headers: body && !headers["transfer-encoding"] ? { "content-length": String(body.byteLength), ...headers } : headers,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function chDelivery(overrides: Parameters<typeof crazyhorseDelivery>[0] = {}) {
  return { ...crazyhorseDelivery(overrides), note: MARKER };
}

function aiDelivery(type = "print.completed") {
  return { ...allImagesDelivery(type), note: MARKER };
}

/** POSTs a crazyhorse delivery (an object as JSON, a string as it is) with the token in `X-Webhook-Token` (`null`: none). */
function postCrazyhorse(s: Setup, body: unknown, token: string | null = SECRET) {
  const req = s.http.post(`${s.prefix}/crazyhorse`).set("content-type", "application/json");
  if (token !== null) req.set("x-webhook-token", token);
  return req.send(typeof body === "string" ? body : JSON.stringify(body));
}

function postAllImages(s: Setup, body: unknown, token: string | null = AI_SECRET) {
  const req = s.http.post(`${s.prefix}/all-images`).set("content-type", "application/json");
  if (token !== null) req.set("x-webhook-token", token);
  return req.send(typeof body === "string" ? body : JSON.stringify(body));
}

/** An RFC 9457 answer, exactly: its status, type, title and nothing of the secrets or the body. */
function expectProblem(res: Answer, status: number, code: Code, errors?: unknown): Record<string, unknown> {
  expect({ status: res.status, contentType: res.headers["content-type"] }).toEqual({ status, contentType: "application/problem+json" });
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body).toEqual({
    type: PROBLEM_PREFIX + code,
    title: TITLES[code],
    status,
    ...(errors !== undefined && { errors }),
  });
  expect(res.text).not.toContain(SECRET);
  expect(res.text).not.toContain(AI_SECRET);
  expect(res.text).not.toContain(MARKER);
  return body;
}

/** A refused delivery emits `invalid` (once, with no secret and no body) and nothing else. */
function expectOnlyInvalid(rec: Recording, invalid: InvalidDelivery): void {
  expect(rec.events).toEqual([]);
  expect(rec.duplicates).toEqual([]);
  expect(rec.errors).toEqual([]);
  expect(rec.invalid).toEqual([invalid]);
  const text = JSON.stringify(rec.invalid);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(MARKER);
}

function expectNothingEmitted(rec: Recording): void {
  expect(rec).toEqual({ events: [], names: [], invalid: [], duplicates: [], errors: [] });
}

/** A JSON body of exactly `size` bytes: the delivery with a padding field. */
function sized(delivery: object, size: number): string {
  const skeleton = Buffer.byteLength(JSON.stringify({ ...delivery, pad: "" }));
  if (size < skeleton) throw new Error(`cannot build a body of ${size} bytes`);
  const body = JSON.stringify({ ...delivery, pad: "x".repeat(size - skeleton) });
  expect(Buffer.byteLength(body)).toBe(size);
  return body;
}

const CRAZYHORSE_OK = { status: 200, contentType: "text/plain; charset=utf-8", text: "success" };
function expectCrazyhorseOk(res: Answer, status = 200): void {
  expect({ status: res.status, contentType: res.headers["content-type"], text: res.text }).toEqual({ ...CRAZYHORSE_OK, status });
}

// ---------------------------------------------------------------------------------------------

describe.each(HOSTS)("%s", (_label, kind) => {
  describe("routing", () => {
    test("serves one POST route per provider at /<provider>", async () => {
      const s = await setup(kind);
      const ch = chDelivery();
      const ai = aiDelivery();
      expectCrazyhorseOk(await postCrazyhorse(s, ch));
      const res = await postAllImages(s, ai);
      expect(res.status).toBe(200);
      expect(s.rec.names).toEqual(["crazyhorse.done", "all-images.print.completed"]);
      expect(s.rec.events.map((e) => e.payload)).toEqual([ch, ai]);
    });

    test("accepts the provider path with a trailing slash, and with a query string after it", async () => {
      const s = await setup(kind);
      const res = await s.http
        .post(`${s.prefix}/crazyhorse/?token=${SECRET}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(chDelivery()));
      expectCrazyhorseOk(res);
      expect(s.rec.names).toEqual(["crazyhorse.done"]);
    });

    test("serves a provider at its custom `path` (trailing slash in the option or the request alike), and no longer at /<provider>", async () => {
      const s = await setup(kind, {
        providers: { crazyhorse: { secret: SECRET, path: "/hooks/ch/" }, "all-images": { secret: AI_SECRET, path: "/ai" } },
      });
      const one = await s.http.post(`${s.prefix}/hooks/ch`).set("x-webhook-token", SECRET).send(chDelivery());
      expectCrazyhorseOk(one);
      const two = await s.http.post(`${s.prefix}/hooks/ch/`).set("x-webhook-token", SECRET).send(chDelivery());
      expectCrazyhorseOk(two);
      const three = await s.http.post(`${s.prefix}/ai`).set("x-webhook-token", AI_SECRET).send(aiDelivery());
      expect(three.status).toBe(200);
      expect(s.rec.names).toEqual(["crazyhorse.done", "crazyhorse.done", "all-images.print.completed"]);

      const old = await s.http.post(`${s.prefix}/crazyhorse`).set("x-webhook-token", SECRET).send(chDelivery());
      expect(old.status).toBe(404);
      expect(s.rec.names).toHaveLength(3);
      expect(s.rec.invalid).toEqual([]);
    });

    test.each(["GET", "PUT", "DELETE"])("%s on a provider path answers 405 with Allow: POST and emits only `invalid`", async (method) => {
      const s = await setup(kind);
      const res = await rawRequest(
        s.server,
        `${s.prefix}/crazyhorse?token=${SECRET}`,
        { "content-type": "application/json" },
        method === "GET" ? undefined : Buffer.from(JSON.stringify(chDelivery())),
        method,
      );
      expectProblem(res, 405, "method.not-allowed");
      expect(res.headers["allow"]).toBe("POST");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 405, reason: "method.not-allowed" });
    });

    test("405 also on a custom path and with a trailing slash", async () => {
      const s = await setup(kind, { providers: { "all-images": { secret: AI_SECRET, path: "/ai" } } });
      const res = await s.http.get(`${s.prefix}/ai/`);
      expectProblem(res, 405, "method.not-allowed");
      expect(res.headers["allow"]).toBe("POST");
    });
  });

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

  describe("content type", () => {
    test("a missing Content-Type is refused with 415, only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await rawRequest(s.server, `${s.prefix}/crazyhorse`, { "x-webhook-token": SECRET }, Buffer.from(JSON.stringify(chDelivery())));
      expectProblem(res, 415, "content-type.unsupported");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 415, reason: "content-type.unsupported" });
    });

    test.each(["text/plain", "application/x-www-form-urlencoded", "application/octet-stream", "application/jsonx", "text/json"])(
      "Content-Type %s is refused with 415, only `invalid` emitted",
      async (type) => {
        const s = await setup(kind);
        const res = await s.http
          .post(`${s.prefix}/all-images`)
          .set("content-type", type)
          .set("x-webhook-token", AI_SECRET)
          .send(JSON.stringify(aiDelivery()));
        expectProblem(res, 415, "content-type.unsupported");
        expectOnlyInvalid(s.rec, { provider: "all-images", status: 415, reason: "content-type.unsupported" });
      },
    );

    test.each(["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"])(
      "Content-Type %s is accepted",
      async (type) => {
        const s = await setup(kind);
        const delivery = chDelivery();
        const res = await s.http
          .post(`${s.prefix}/crazyhorse`)
          .set("content-type", type)
          .set("x-webhook-token", SECRET)
          .send(JSON.stringify(delivery));
        expectCrazyhorseOk(res);
        expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      },
    );
  });

  describe("authentication", () => {
    test("a delivery with no token is refused with 401, only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await postCrazyhorse(s, chDelivery(), null);
      expectProblem(res, 401, "auth.failed");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 401, reason: "auth.failed" });
    });

    const PLACES: [string, (r: request.Test, token: string) => request.Test, (path: string, token: string) => string][] = [
      ["?token=", (r) => r, (path, token) => `${path}?token=${encodeURIComponent(token)}`],
      ["Authorization: Bearer", (r, token) => r.set("authorization", `Bearer ${token}`), (path) => path],
      ["X-Webhook-Token", (r, token) => r.set("x-webhook-token", token), (path) => path],
    ];

    test.each(PLACES)("the token is accepted in %s", async (_place, setToken, url) => {
      const s = await setup(kind);
      const delivery = chDelivery();
      const res = await setToken(s.http.post(url(`${s.prefix}/crazyhorse`, SECRET)), SECRET)
        .set("content-type", "application/json")
        .send(JSON.stringify(delivery));
      expectCrazyhorseOk(res);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.invalid).toEqual([]);
    });

    test.each(PLACES)("a wrong token in %s is refused with 401, says nothing of why, and emits only `invalid`", async (_place, setToken, url) => {
      const s = await setup(kind);
      const wrong = `${SECRET}-wrong`;
      const res = await setToken(s.http.post(url(`${s.prefix}/crazyhorse`, wrong)), wrong)
        .set("content-type", "application/json")
        .send(JSON.stringify(chDelivery()));
      expectProblem(res, 401, "auth.failed");
      expect(res.text).not.toContain(wrong);
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 401, reason: "auth.failed" });
    });

    test("the other provider's secret is not accepted", async () => {
      const s = await setup(kind);
      expectProblem(await postCrazyhorse(s, chDelivery(), AI_SECRET), 401, "auth.failed");
      expectProblem(await postAllImages(s, aiDelivery(), SECRET), 401, "auth.failed");
      expect(s.rec.events).toEqual([]);
    });

    test("every secret of a rotation array is accepted, in each place; another is not", async () => {
      const secrets = ["rotation-old-secret-a1", "rotation-new-secret-b2", "rotation-next-secret-c3"];
      const s = await setup(kind, { providers: { "all-images": { secret: secrets } } });
      for (const secret of secrets) {
        for (const [, setToken, url] of PLACES) {
          const res = await setToken(s.http.post(url(`${s.prefix}/all-images`, secret)), secret)
            .set("content-type", "application/json")
            .send(JSON.stringify(aiDelivery()));
          expect(res.status).toBe(200);
        }
      }
      expect(s.rec.events).toHaveLength(9);
      const res = await postAllImages(s, aiDelivery(), "rotation-retired-secret-z0");
      expectProblem(res, 401, "auth.failed");
      for (const secret of secrets) expect(res.text).not.toContain(secret);
      expect(s.rec.events).toHaveLength(9);
    });

    test("a secret with URL-special characters is accepted from a percent-encoded ?token=", async () => {
      const secret = "s3cr+t/with=&?#chars";
      const s = await setup(kind, { providers: { crazyhorse: { secret } } });
      const res = await s.http
        .post(`${s.prefix}/crazyhorse?token=${encodeURIComponent(secret)}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(chDelivery()));
      expectCrazyhorseOk(res);
    });

    test("a missing and a wrong token get the same answer: no detail of why", async () => {
      const s = await setup(kind);
      const missing = await postCrazyhorse(s, chDelivery(), null);
      const wrong = await postCrazyhorse(s, chDelivery(), "x");
      expect({ status: wrong.status, headers: wrong.headers["content-type"], text: wrong.text }).toEqual({
        status: missing.status,
        headers: missing.headers["content-type"],
        text: missing.text,
      });
    });

    test("an unauthenticated caller learns nothing of the body: malformed JSON and schema failures without a token are 401", async () => {
      const s = await setup(kind);
      expectProblem(await postCrazyhorse(s, `{"state": "DONE", "note": "${MARKER}"`, null), 401, "auth.failed");
      expectProblem(await postCrazyhorse(s, { state: 42, code: [], note: MARKER }, "wrong"), 401, "auth.failed");
      expect(s.rec.invalid.map((i) => i.reason)).toEqual(["auth.failed", "auth.failed"]);
    });

    test("a refused delivery is not remembered: sent again with the token it is handled, not a duplicate", async () => {
      const s = await setup(kind);
      const delivery = chDelivery();
      expectProblem(await postCrazyhorse(s, delivery, "wrong"), 401, "auth.failed");
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.duplicates).toEqual([]);
    });
  });

  describe("JSON and schema", () => {
    test("malformed JSON is refused with 400 (no schema errors, the body not quoted), only `invalid` emitted", async () => {
      const s = await setup(kind);
      const res = await postCrazyhorse(s, `{"state": "DONE", "code": "abc", "note": "${MARKER}",`);
      expectProblem(res, 400, "json.malformed");
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 400, reason: "json.malformed" });
    });

    test("an empty body is malformed JSON: 400", async () => {
      const s = await setup(kind);
      expectProblem(await postAllImages(s, ""), 400, "json.malformed");
    });

    test("a crazyhorse schema failure is 400 with each error's instancePath and message, and `invalid` carries the same errors", async () => {
      const s = await setup(kind);
      // `code` of the wrong type, and a DONE state without its images.
      const body = { state: "DONE", code: 12345, params: { number: "two" }, note: MARKER };
      const res = await postCrazyhorse(s, body);
      const problem = expectProblem(res, 400, "schema.invalid", expect.any(Array));
      const errors = problem.errors as SchemaError[];
      for (const error of errors) expect(Object.keys(error).sort()).toEqual(["instancePath", "message"]);
      expect(errors).toEqual(
        expect.arrayContaining([
          { instancePath: "/code", message: "must be string" },
          { instancePath: "/params/number", message: "must be number" },
          { instancePath: "", message: "must have required property 'generateImageUrls'" },
        ]),
      );
      expectOnlyInvalid(s.rec, { provider: "crazyhorse", status: 400, reason: "schema.invalid", errors });
    });

    test("an all-images schema failure is 400 with its errors; a missing required field is named", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery();
      const body = { ...delivery, data: { ...delivery.data, status: "3", createdAt: "yesterday" } } as Record<string, unknown>;
      delete body.type;
      const res = await postAllImages(s, body);
      const problem = expectProblem(res, 400, "schema.invalid", expect.any(Array));
      expect(problem.errors).toEqual(
        expect.arrayContaining([
          { instancePath: "", message: "must have required property 'type'" },
          { instancePath: "/data/status", message: "must be integer" },
          { instancePath: "/data/createdAt", message: 'must match format "date-time"' },
        ]),
      );
      expectOnlyInvalid(s.rec, { provider: "all-images", status: 400, reason: "schema.invalid", errors: problem.errors as SchemaError[] });
    });

    test("unknown fields and an unknown state are accepted", async () => {
      const s = await setup(kind);
      const delivery = { ...chDelivery({ state: "UPSCALING" }), futureField: { nested: true } };
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.names).toEqual(["crazyhorse.upscaling"]);
      expect(s.rec.events[0]?.generation.status).toBe("unknown");
    });
  });

  describe("success answers", () => {
    test("crazyhorse: 200 text/plain `success`, after the listeners, with the event names in the design's order", async () => {
      const s = await setup(kind);
      const order: string[] = [];
      for (const name of ["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"] as const) {
        s.webhooks.on(name, () => void order.push(name));
      }
      const delivery = chDelivery();
      const res = await postCrazyhorse(s, delivery);
      expectCrazyhorseOk(res);
      expect(order).toEqual(["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"]);
      const event = s.rec.events[0];
      expect(event).toMatchObject({ id: `${delivery.code}:done`, provider: "crazyhorse", name: "crazyhorse.done", payload: delivery });
      expect(s.rec.invalid).toEqual([]);
    });

    test("all-images: 200 with an empty body", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery("print.progress");
      const res = await postAllImages(s, delivery);
      expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: "" });
      expect(s.rec.events).toHaveLength(1);
      expect(s.rec.events[0]).toMatchObject({ id: delivery.id, name: "all-images.print.progress", payload: delivery });
    });

    test("an async listener is awaited before the answer", async () => {
      const s = await setup(kind);
      let done = false;
      s.webhooks.on("all-images.print.completed", async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        done = true;
      });
      const res = await postAllImages(s, aiDelivery());
      expect(res.status).toBe(200);
      expect(done).toBe(true);
    });
  });

  describe("dedupe", () => {
    test("the same delivery twice: 200 both times, the second emits `duplicate` and not the events", async () => {
      const s = await setup(kind);
      const delivery = chDelivery();
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.names).toEqual(["crazyhorse.done"]);
      expect(s.rec.duplicates).toHaveLength(1);
      expect(s.rec.duplicates[0]).toMatchObject({ id: `${delivery.code}:done`, name: "crazyhorse.done", payload: delivery });
      expect(s.rec.invalid).toEqual([]);
    });

    test("all-images: the same envelope id twice is one delivery, even with the token in another place", async () => {
      const s = await setup(kind);
      const delivery = aiDelivery();
      expect((await postAllImages(s, delivery)).status).toBe(200);
      const again = await s.http
        .post(`${s.prefix}/all-images?token=${AI_SECRET}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(delivery));
      expect({ status: again.status, text: again.text }).toEqual({ status: 200, text: "" });
      expect(s.rec.events).toHaveLength(1);
      expect(s.rec.duplicates.map((e) => e.id)).toEqual([delivery.id]);
    });

    test("one crazyhorse job in two states is two deliveries", async () => {
      const s = await setup(kind);
      const waiting = chDelivery({ state: "WAITING" });
      const done = chDelivery({ code: waiting.code });
      expectCrazyhorseOk(await postCrazyhorse(s, waiting));
      expectCrazyhorseOk(await postCrazyhorse(s, done));
      expect(s.rec.names).toEqual(["crazyhorse.waiting", "crazyhorse.done"]);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("with `dedupe: false` the same delivery is emitted each time", async () => {
      const s = await setup(kind, { dedupe: false });
      const delivery = aiDelivery();
      await postAllImages(s, delivery);
      await postAllImages(s, delivery);
      expect(s.rec.events).toHaveLength(2);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("a copy sent while the first's async listener still runs gets 409 with Retry-After; after it, a copy is a duplicate", async () => {
      const s = await setup(kind);
      const hold = deferred();
      const entered = deferred();
      let calls = 0;
      s.webhooks.on("crazyhorse.done", async () => {
        calls++;
        entered.resolve();
        await hold.promise;
      });
      const delivery = chDelivery();
      const first = postCrazyhorse(s, delivery).then((res) => res);
      try {
        await entered.promise;
        const second = await postCrazyhorse(s, delivery);
        expectProblem(second, 409, "delivery.in-flight");
        expect(second.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
        expect(calls).toBe(1);
        expect(s.rec.events).toEqual([]);
        expect(s.rec.duplicates).toEqual([]);
      } finally {
        hold.resolve();
      }
      expectCrazyhorseOk(await first);
      expect(calls).toBe(1);
      expect(s.rec.names).toEqual(["crazyhorse.done"]);

      expectCrazyhorseOk(await postCrazyhorse(s, delivery));
      expect(s.rec.duplicates).toHaveLength(1);
      expect(calls).toBe(1);
    });

    test("a store whose claim rejects: 503 with Retry-After, nothing emitted (not even `invalid`), the store's error not echoed", async () => {
      const store: DedupeStore = {
        claim: () => Promise.reject(new Error("ECONNREFUSED redis://admin:hunter2@10.0.0.7:6379")),
        complete: () => undefined,
        release: () => undefined,
      };
      const s = await setup(kind, { dedupe: store });
      const calls: string[] = [];
      s.webhooks.on("crazyhorse.done", () => void calls.push("listener"));
      const res = await postCrazyhorse(s, chDelivery());
      expectProblem(res, 503, "store.unavailable");
      expect(res.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expect(res.text).not.toContain("hunter2");
      expect(calls).toEqual([]);
      expectNothingEmitted(s.rec);
    });

    test("a store whose claim throws synchronously is a 503 too; once the store is back, the provider's retry is handled", async () => {
      let down = true;
      const claimed: string[] = [];
      const store: DedupeStore = {
        claim: (key) => {
          if (down) throw new Error("store down");
          claimed.push(key);
          return "claimed";
        },
        complete: () => undefined,
        release: () => undefined,
      };
      const s = await setup(kind, { dedupe: store });
      const delivery = aiDelivery();
      const res = await postAllImages(s, delivery);
      expectProblem(res, 503, "store.unavailable");
      expect(res.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      expectNothingEmitted(s.rec);

      down = false;
      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(s.rec.events.map((e) => e.id)).toEqual([delivery.id]);
      expect(claimed).toEqual([`all-images:${delivery.id}`]);
    });
  });

  describe("listeners that fail or take long", () => {
    test("a throwing listener: 500 problem+json (its message not echoed), `error` emitted; the retry is handled and the listener called again", async () => {
      const s = await setup(kind);
      let calls = 0;
      s.webhooks.on("crazyhorse.done", () => {
        calls++;
        if (calls === 1) throw new Error(`database refused: ${MARKER}`);
      });
      const delivery = chDelivery();
      const res = await postCrazyhorse(s, delivery);
      expectProblem(res, 500, "handler.failed");
      expect(s.rec.errors).toHaveLength(1);
      expect(s.rec.errors[0]?.event).toMatchObject({ id: `${delivery.code}:done`, payload: delivery });
      expect(s.rec.duplicates).toEqual([]);

      const retry = await postCrazyhorse(s, delivery);
      expectCrazyhorseOk(retry);
      expect(calls).toBe(2);
      expect(s.rec.duplicates).toEqual([]);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
    });

    test("a rejecting async listener: 500, and the retry is handled", async () => {
      const s = await setup(kind);
      let calls = 0;
      s.webhooks.on("all-images", async () => {
        calls++;
        await Promise.resolve();
        if (calls === 1) throw new Error("nope");
      });
      const delivery = aiDelivery();
      expectProblem(await postAllImages(s, delivery), 500, "handler.failed");
      expect(s.rec.errors).toHaveLength(1);
      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(calls).toBe(2);
      expect(s.rec.duplicates).toEqual([]);
    });

    test("listeners slower than handlerTimeoutMs: 202 now; they go on, and once done the delivery is remembered", async () => {
      const s = await setup(kind, { handlerTimeoutMs: 50 });
      const hold = deferred();
      let finished = false;
      s.webhooks.on("crazyhorse.done", async () => {
        await hold.promise;
        finished = true;
      });
      const delivery = chDelivery();
      try {
        const res = await postCrazyhorse(s, delivery);
        expect(res.status).toBe(202);
        expect(finished).toBe(false);
        expect(s.rec.events).toEqual([]); // `*` comes after the held listener
      } finally {
        hold.resolve();
      }
      await s.webhooks.close();
      expect(finished).toBe(true);
      expect(s.rec.events.map((e) => e.payload)).toEqual([delivery]);
      expect(s.rec.errors).toEqual([]);
    });

    test("after a 202, a copy while the listener runs is 409; a later failure is reported through `error` and releases the key", async () => {
      const s = await setup(kind, { handlerTimeoutMs: 30 });
      const hold = deferred();
      const errored = deferred();
      s.webhooks.on("error", () => errored.resolve());
      let calls = 0;
      s.webhooks.on("all-images.print.completed", async () => {
        calls++;
        if (calls === 1) await hold.promise;
      });
      const delivery = aiDelivery();
      try {
        expect((await postAllImages(s, delivery)).status).toBe(202);
        const copy = await postAllImages(s, delivery);
        expectProblem(copy, 409, "delivery.in-flight");
        expect(copy.headers["retry-after"]).toMatch(/^[1-9]\d*$/);
      } finally {
        hold.reject(new Error("late failure"));
      }
      // The late failure is settled (the key released) before `error` is emitted.
      await errored.promise;
      expect(s.rec.errors).toHaveLength(1);
      expect(s.rec.errors[0]?.event?.id).toBe(delivery.id);

      expect((await postAllImages(s, delivery)).status).toBe(200);
      expect(calls).toBe(2);
      expect(s.rec.events.map((e) => e.id)).toEqual([delivery.id]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("paths that are not a provider's", () => {
  test("bare server: any other path answers 404 problem+json, and nothing is emitted", async () => {
    const s = await setup("bare");
    for (const path of ["/", "/other", "/crazyhorse/extra", "/crazyhorsex", "/webhooks/crazyhorse"]) {
      const res = await s.http.post(path).set("x-webhook-token", SECRET).send(chDelivery());
      expectProblem(res, 404, "route.not-found");
    }
    expectProblem(await s.http.get("/nothing"), 404, "route.not-found");
    expectNothingEmitted(s.rec);
  });

  test("Express: other paths below the mount point fall through to the host's own routes, which still answer", async () => {
    const webhooks = receiver();
    const rec = record(webhooks);
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    app.get("/webhooks/health", (_req, res) => void res.json({ ok: true }));
    app.post("/webhooks/crazyhorse/extra", (_req, res) => void res.status(202).send("host extra"));
    const http = request(await serve(app));

    const health = await http.get("/webhooks/health");
    expect({ status: health.status, body: health.body as unknown }).toEqual({ status: 200, body: { ok: true } });
    const extra = await http.post("/webhooks/crazyhorse/extra").set("x-webhook-token", SECRET).send(chDelivery());
    expect({ status: extra.status, text: extra.text }).toEqual({ status: 202, text: "host extra" });

    // No host route: Express's own 404, not the middleware's problem document.
    const unknown = await http.post("/webhooks/unknown-provider").set("x-webhook-token", SECRET).send(chDelivery());
    expect(unknown.status).toBe(404);
    expect(unknown.headers["content-type"]).not.toMatch(/problem\+json/);
    expectNothingEmitted(rec);
  });

  test("Express: a custom path frees /<provider> for the host", async () => {
    const webhooks = receiver({ providers: { crazyhorse: { secret: SECRET, path: "/ch" } } });
    const rec = record(webhooks);
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    app.post("/webhooks/crazyhorse", (_req, res) => void res.status(201).send("host"));
    const http = request(await serve(app));
    const res = await http.post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(chDelivery());
    expect({ status: res.status, text: res.text }).toEqual({ status: 201, text: "host" });
    expectCrazyhorseOk(await http.post("/webhooks/ch").set("x-webhook-token", SECRET).send(chDelivery()));
    expect(rec.names).toEqual(["crazyhorse.done"]);
  });

  test("Express: the middleware never answers for a host route, and leaves its body unread (POST /other reaches the host's handler)", async () => {
    const webhooks = receiver();
    const rec = record(webhooks);
    const app = express();
    app.use(webhooks.middleware()); // mounted at the root, before everything
    app.use("/webhooks", webhooks.middleware());
    app.post("/other", express.json(), (req, res) => void res.status(201).json({ host: true, got: req.body as unknown }));
    app.post("/webhooks/other", express.json(), (req, res) => void res.status(201).json({ host: true, got: req.body as unknown }));
    const http = request(await serve(app));

    for (const path of ["/other", "/webhooks/other"]) {
      const res = await http.post(path).set("x-webhook-token", SECRET).send({ hello: "host" });
      expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 201, body: { host: true, got: { hello: "host" } } });
    }
    const get = await http.get("/other");
    expect(get.status).toBe(404);
    expect(get.headers["content-type"]).not.toMatch(/problem\+json/);
    expectNothingEmitted(rec);

    // The root mount still serves its own provider path.
    expectCrazyhorseOk(await http.post("/crazyhorse").set("x-webhook-token", SECRET).send(chDelivery()));
    expect(rec.names).toEqual(["crazyhorse.done"]);
  });
});

// ---------------------------------------------------------------------------------------------

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
    const schema = await http.post("/webhooks/all-images").set("x-webhook-token", AI_SECRET).send({ id: "evt_1", type: "print.created", data: {}, note: MARKER });
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
    const form = await http.post("/webhooks/all-images").set("x-webhook-token", AI_SECRET).type("form").send({ id: "evt_form", type: "print.created" });
    expectProblem(form, 415, "content-type.unsupported");
    expect(rec.events.map((e) => e.payload)).toEqual([delivery]);
  });
});
