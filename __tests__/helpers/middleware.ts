/**
 * What the pipeline's HTTP tests share (`__tests__/pipeline/*.test.ts`, one file per stage): the
 * HTTP contract of `webhooks.middleware()` (DESIGN.md, "The pipeline of one delivery, and its
 * answers"), over real HTTP: in an Express app (`app.use("/webhooks", webhooks.middleware())`) and
 * on a bare `http.createServer(webhooks.middleware())`. Each test file runs `afterEach(closeAll)`.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import request from "supertest";
import {
  createWebhooks,
  type AnyWebhookEvent,
  type InvalidDelivery,
  type WebhookHandlerError,
  type Webhooks,
  type WebhooksOptions,
} from "imagegen-webhooks";
import { allImagesDelivery, crazyhorseDelivery } from "imagegen-webhooks/testing";

export const SECRET = "crazyhorse-middleware-secret-7f3a";
export const AI_SECRET = "all-images-middleware-secret-91bc";
/** Put in every test body: no answer and no `invalid` event may ever contain it. */
export const MARKER = "body-marker-must-not-be-echoed-5d1e";
const PROBLEM_PREFIX = "urn:imagegen-webhooks:problem:";

const TITLES = {
  "route.not-found": "Not Found",
  "method.not-allowed": "Method Not Allowed",
  "entity.too.large": "Payload Too Large",
  "request.invalid": "Bad Request",
  "content-type.unsupported": "Unsupported Media Type",
  "encoding.unsupported": "Unsupported Content Encoding",
  "auth.failed": "Unauthorized",
  "auth.multiple-tokens": "More Than One Token",
  "json.malformed": "Malformed JSON",
  "json.too-deep": "JSON Nested Too Deeply",
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

export async function serve(listener: RequestListener): Promise<Server> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return server;
}

/** Closes every receiver and server the test made: each test file runs it `afterEach`. */
export async function closeAll(): Promise<void> {
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
}

export function receiver(options: Partial<WebhooksOptions> = {}): Webhooks {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: AI_SECRET } },
    ...options,
  });
  receivers.push(webhooks);
  return webhooks;
}

/** Everything a receiver emits outside the providers' own names. */
export function record(webhooks: Webhooks) {
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
export type Recording = ReturnType<typeof record>;

export type HostKind = "express" | "bare";
export const HOSTS: [string, HostKind][] = [
  ["Express app.use('/webhooks', middleware)", "express"],
  ["bare http.createServer(middleware)", "bare"],
];

export interface Setup {
  webhooks: Webhooks;
  rec: Recording;
  server: Server;
  /** The mount point: `/webhooks` in Express, nothing on the bare server. */
  prefix: string;
  http: ReturnType<typeof request>;
}

export async function setup(kind: HostKind, options: Partial<WebhooksOptions> = {}): Promise<Setup> {
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

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders | Record<string, string>;
  text: string;
}

/** A request with exactly these headers and these bytes (supertest would serialize a Buffer sent as JSON). */
export function rawRequest(server: Server, path: string, headers: Record<string, string>, body?: Buffer, method = "POST"): Promise<Answer> {
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

export function chDelivery(overrides: Parameters<typeof crazyhorseDelivery>[0] = {}) {
  return { ...crazyhorseDelivery(overrides), note: MARKER };
}

export function aiDelivery(type = "print.completed") {
  return { ...allImagesDelivery(type), note: MARKER };
}

/** POSTs a crazyhorse delivery (an object as JSON, a string as it is) with the token in `X-Webhook-Token` (`null`: none). */
export function postCrazyhorse(s: Setup, body: unknown, token: string | null = SECRET) {
  const req = s.http.post(`${s.prefix}/crazyhorse`).set("content-type", "application/json");
  if (token !== null) req.set("x-webhook-token", token);
  return req.send(typeof body === "string" ? body : JSON.stringify(body));
}

export function postAllImages(s: Setup, body: unknown, token: string | null = AI_SECRET) {
  const req = s.http.post(`${s.prefix}/all-images`).set("content-type", "application/json");
  if (token !== null) req.set("x-webhook-token", token);
  return req.send(typeof body === "string" ? body : JSON.stringify(body));
}

/** An RFC 9457 answer, exactly: its status, type, title and nothing of the secrets or the body. */
export function expectProblem(res: Answer, status: number, code: Code, errors?: unknown): Record<string, unknown> {
  expect({ status: res.status, contentType: res.headers["content-type"] }).toEqual({ status, contentType: "application/problem+json" });
  const body = JSON.parse(res.text) as Record<string, unknown>;
  // `detail`, where a refusal has one, is checked by the tests of that refusal.
  const { detail, ...rest } = body;
  if (detail !== undefined) expect(typeof detail).toBe("string");
  expect(rest).toEqual({
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
export function expectOnlyInvalid(rec: Recording, invalid: InvalidDelivery): void {
  expect(rec.events).toEqual([]);
  expect(rec.duplicates).toEqual([]);
  expect(rec.errors).toEqual([]);
  expect(rec.invalid).toEqual([invalid]);
  const text = JSON.stringify(rec.invalid);
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(MARKER);
}

export function expectNothingEmitted(rec: Recording): void {
  expect(rec).toEqual({ events: [], names: [], invalid: [], duplicates: [], errors: [] });
}

/** A JSON body of exactly `size` bytes: the delivery with a padding field. */
export function sized(delivery: object, size: number): string {
  const skeleton = Buffer.byteLength(JSON.stringify({ ...delivery, pad: "" }));
  if (size < skeleton) throw new Error(`cannot build a body of ${size} bytes`);
  const body = JSON.stringify({ ...delivery, pad: "x".repeat(size - skeleton) });
  expect(Buffer.byteLength(body)).toBe(size);
  return body;
}

const CRAZYHORSE_OK = { status: 200, contentType: "text/plain; charset=utf-8", text: "success" };
export function expectCrazyhorseOk(res: Answer, status = 200): void {
  expect({ status: res.status, contentType: res.headers["content-type"], text: res.text }).toEqual({ ...CRAZYHORSE_OK, status });
}
