/**
 * fal.ai: its documented deliveries, signed with node:crypto's own `sign(null, …)` over the four
 * documented lines, are received, verified, normalized and emitted; forgeries, tampering, stale
 * timestamps and another account's deliveries are refused; a key rotated in on a local JWKS server
 * is accepted on its first delivery; an unreachable JWKS is a 503 with Retry-After; the read-back
 * is tested against a local fake of fal's queue API.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { createWebhooks, ProviderApiError, type AnyWebhookEvent } from "../../lib/entries/index";
import { fal, fetchFalRequest } from "../../lib/providers/fal";
import {
  buildDelivery,
  ed25519TestKeys,
  falDelivery,
  falExample,
  sendDelivery,
  signFalDelivery,
  simulateJob,
} from "../../lib/entries/testing";
import { closeServer, jwksServer } from "../helpers/loopback-server";

const USER = "user-1234";
const documentedOk =
  '{"request_id":"123e4567-e89b-12d3-a456-426614174000","gateway_request_id":"123e4567-e89b-12d3-a456-426614174000","status":"OK","payload":{"images":[{"url":"https://url.to/image.png","content_type":"image/png","file_name":"image.png","file_size":1824075,"width":1024,"height":1024}],"seed":196619188014358660}}';
const documentedError =
  '{"request_id":"123e4567-e89b-12d3-a456-426614174000","status":"ERROR","error":"Invalid status code: 422","payload":{"detail":"prompt is required"}}';

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What fal.ai sends, built by hand from its documentation: request id, user id, timestamp, sha256(body), one per line. */
function falHeaders(key: KeyObject, raw: string, options: { userId?: string; timestamp?: number; requestId?: string } = {}) {
  const { userId = USER, timestamp = nowSeconds() } = options;
  const requestId = options.requestId ?? (JSON.parse(raw) as { request_id: string }).request_id;
  const message = [requestId, userId, String(timestamp), createHash("sha256").update(raw).digest("hex")].join("\n");
  return {
    "content-type": "application/json",
    "x-fal-webhook-request-id": requestId,
    "x-fal-webhook-user-id": userId,
    "x-fal-webhook-timestamp": String(timestamp),
    "x-fal-webhook-signature": sign(null, Buffer.from(message), key).toString("hex"),
  };
}

function keyPair(): { privateKey: KeyObject; jwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, jwk: publicKey.export({ format: "jwk" }) as JWK };
}

function receiver(options: Record<string, unknown>) {
  const webhooks = createWebhooks({ providers: { fal: options } });
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of ["fal.ok", "fal.error", "generation.completed", "generation.failed"] as const) {
    webhooks.on(name, () => void names.push(name));
  }
  const invalid: string[] = [];
  webhooks.on("invalid", (refusal) => void invalid.push(refusal.reason));
  const send = (raw: string, headers: Record<string, string>) => webhooks.receive({ provider: "fal", headers, rawBody: raw });
  return { webhooks, events, names, invalid, send };
}

test("fal.ai's documented OK delivery, verbatim and signed over the documented lines, is emitted as fal.ok and generation.completed", async () => {
  const { privateKey, jwk } = keyPair();
  const { events, names, send } = receiver({ userId: USER, jwks: { keys: [jwk] } });
  expect(JSON.parse(documentedOk)).toEqual(falExample);
  const answer = await send(documentedOk, falHeaders(privateKey, documentedOk));
  expect(answer.status).toBe(200);
  expect(names).toEqual(["fal.ok", "generation.completed"]);
  expect(events[0]).toMatchObject({ provider: "fal", name: "fal.ok", id: "123e4567-e89b-12d3-a456-426614174000:OK" });
  expect(events[0]?.generation).toMatchObject({
    provider: "fal",
    id: "123e4567-e89b-12d3-a456-426614174000",
    status: "completed",
    images: [{ url: "https://url.to/image.png" }],
    params: { seed: 196619188014358660 },
  });
});

test("the documented ERROR delivery is fal.error and generation.failed, its error in generation.error", async () => {
  const { privateKey, jwk } = keyPair();
  const { events, names, send } = receiver({ userId: USER, jwks: { keys: [jwk] } });
  expect((await send(documentedError, falHeaders(privateKey, documentedError))).status).toBe(200);
  expect(names).toEqual(["fal.error", "generation.failed"]);
  expect(events[0]?.generation).toMatchObject({ status: "failed", images: [], error: "Invalid status code: 422" });
});

test("a retried webhook (same request_id) is a duplicate, even when fal retried the request under a new gateway_request_id", async () => {
  const { privateKey, jwk } = keyPair();
  const { events, send } = receiver({ userId: USER, jwks: { keys: [jwk] } });
  const first = JSON.stringify(falDelivery("OK", { request_id: "req-1", gateway_request_id: "gw-1" }));
  const again = JSON.stringify({ ...(JSON.parse(first) as object), gateway_request_id: "gw-2" });
  expect((await send(first, falHeaders(privateKey, first))).status).toBe(200);
  expect((await send(again, falHeaders(privateKey, again))).status).toBe(200);
  expect(events).toHaveLength(1);
});

test.each([
  ["a forged signature (another key)", (raw: string) => falHeaders(keyPair().privateKey, raw)],
  ["a tampered body", (raw: string, key: KeyObject) => falHeaders(key, raw.replace("image.png", "evil.png"))],
  ["a stale timestamp (301 s old)", (raw: string, key: KeyObject) => falHeaders(key, raw, { timestamp: nowSeconds() - 301 })],
  ["a timestamp from the future", (raw: string, key: KeyObject) => falHeaders(key, raw, { timestamp: nowSeconds() + 301 })],
  ["another request id than signed", (raw: string, key: KeyObject) => ({ ...falHeaders(key, raw), "x-fal-webhook-request-id": "other" })],
  ["no signature at all", () => ({ "content-type": "application/json" })],
])("%s is refused with 401 auth.failed, and nothing is emitted", async (_, headers) => {
  const { privateKey, jwk } = keyPair();
  const { events, invalid, send } = receiver({ userId: USER, jwks: { keys: [jwk] } });
  const answer = await send(documentedOk, headers(documentedOk, privateKey));
  expect(answer.status).toBe(401);
  expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:imagegen-webhooks:problem:auth.failed" });
  expect(invalid).toEqual(["auth.failed"]);
  expect(events).toHaveLength(0);
});

test("another account's delivery, validly signed by fal, is refused with 401 auth.wrong-account, naming the account it was signed for (never the configured one)", async () => {
  const { privateKey, jwk } = keyPair();
  const { events, send } = receiver({ userId: USER, jwks: { keys: [jwk] } });
  const answer = await send(documentedOk, falHeaders(privateKey, documentedOk, { userId: "someone-else" }));
  expect(answer.status).toBe(401);
  const problem = JSON.parse(answer.body) as { type: string; detail?: string };
  expect(problem).toMatchObject({ type: "urn:imagegen-webhooks:problem:auth.wrong-account" });
  expect(problem.detail).toContain('"someone-else"');
  expect(problem.detail).not.toContain(USER);
  expect(events).toHaveLength(0);
});

test("the log line of another account's delivery names that account, so that a user finds the userId of their own", async () => {
  const { privateKey, jwk } = keyPair();
  const lines: unknown[] = [];
  const log = (line: unknown) => void lines.push(line);
  const logger = { debug: log, info: log, warn: log, error: log };
  const webhooks = createWebhooks({ providers: { fal: { userId: USER, jwks: { keys: [jwk] } } }, logger });
  const answer = await webhooks.receive({
    provider: "fal",
    rawBody: documentedOk,
    headers: falHeaders(privateKey, documentedOk, { userId: "my-real-account\u001b[2J" }),
  });
  expect(answer.status).toBe(401);
  expect(lines).toContainEqual(
    expect.objectContaining({ reason: "auth.wrong-account", detail: expect.stringContaining('"my-real-account?[2J"') as unknown }),
  );
});

test("without userId, createWebhooks warns once that any fal.ai customer can deliver here", () => {
  const warn = jest.fn();
  const logger = { debug: jest.fn(), info: jest.fn(), warn, error: jest.fn() };
  const { jwk } = keyPair();
  createWebhooks({ providers: { fal: { jwks: { keys: [jwk] } } }, logger });
  createWebhooks({ providers: { fal: { jwks: { keys: [jwk] } } }, logger });
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]?.[1])).toMatch(/providers\.fal has no userId: .*any fal customer can point their jobs at this URL/);
  warn.mockClear();
  createWebhooks({ providers: { fal: { userId: USER, jwks: { keys: [jwk] } } }, logger });
  expect(warn).not.toHaveBeenCalled();
});

test.each([
  [{ jwksUrl: "http://example.com/jwks.json" }, /jwksUrl must be https/],
  [{ jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } }, /jwks\.keys\[0\] must be an Ed25519 public key/],
  [{ secret: "token" }, /cannot be authenticated by token/],
  [{ userId: USER, signature: { secret: "whsec_x" } }, /cannot be authenticated by signature/],
])("a mistake in fal's options is a start-up error: %j", (options, message) => {
  expect(() => createWebhooks({ providers: { fal: options } })).toThrow(message);
});

test("a key rotated in is accepted on its first delivery: the JWKS is fetched again after a signature no cached key verifies", async () => {
  const old = keyPair();
  const rotated = keyPair();
  const server = await jwksServerAt([old.jwk]);
  try {
    const { events, send } = receiver({ userId: USER, jwksUrl: server.url });
    const first = JSON.stringify(falDelivery("OK"));
    expect((await send(first, falHeaders(old.privateKey, first))).status).toBe(200);
    server.setKeys([old.jwk, rotated.jwk]);
    // Past jose's 30 s cooldown since the first fetch: the clock is moved instead of waited for.
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, "now").mockImplementation(() => realNow() + 31_000);
    const second = JSON.stringify(falDelivery("OK"));
    expect((await send(second, falHeaders(rotated.privateKey, second))).status).toBe(200);
    expect(events).toHaveLength(2);
    expect(server.requests()).toBe(2);
  } finally {
    jest.restoreAllMocks();
    await server.close();
  }
});

test("a JWKS that cannot be fetched is answered 503 with Retry-After, logged with why, and is no invalid event", async () => {
  const server = await jwksServerAt([]);
  server.fail();
  const warn = jest.fn();
  const logger = { debug: jest.fn(), info: jest.fn(), warn, error: jest.fn() };
  try {
    const webhooks = createWebhooks({ providers: { fal: { userId: USER, jwksUrl: server.url } }, logger });
    const invalid = jest.fn();
    webhooks.on("invalid", invalid);
    const answer = await webhooks.receive({
      provider: "fal",
      headers: falHeaders(keyPair().privateKey, documentedOk),
      rawBody: documentedOk,
    });
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("30");
    expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:imagegen-webhooks:problem:keys.unavailable" });
    expect(invalid).not.toHaveBeenCalled();
    const line = warn.mock.calls.find(([entry]) => (entry as { outcome?: string }).outcome === "keys-unavailable")?.[0] as Record<
      string,
      unknown
    >;
    expect(line).toMatchObject({ provider: "fal", status: 503, reason: "keys.unavailable" });
    expect(String(line.detail)).toMatch(/signing keys are unavailable/);
  } finally {
    await server.close();
  }
});

test("the testing hooks sign with the user's own key: buildDelivery, signFalDelivery and sendDelivery against static jwks", async () => {
  const keys = ed25519TestKeys();
  const { events, send } = receiver({ userId: USER, jwks: keys.jwks });
  const body = buildDelivery("fal", { status: "ERROR" });
  const raw = JSON.stringify(body);
  expect(
    (await send(raw, { "content-type": "application/json", ...signFalDelivery(raw, { privateKey: keys.privateKey, userId: USER }) }))
      .status,
  ).toBe(200);
  expect(events[0]?.generation.status).toBe("failed");

  const job = simulateJob("fal", { seed: 7, images: 2, outcome: "completed" });
  const webhooks = createWebhooks({ providers: { fal: { userId: USER, jwks: keys.jwks } } });
  const seen: string[] = [];
  webhooks.on("generation.completed", (event) => void seen.push(...event.generation.images.map((image) => image.url)));
  const app = webhooks.middleware();
  for (const delivery of job.deliveries.filter((d) => !d.retry)) {
    const answer = await sendDelivery(app, {
      path: "/fal",
      body: delivery.body,
      sign: (rawBody) => signFalDelivery(rawBody, { privateKey: keys.privateKey, userId: USER }),
    });
    expect(answer.status).toBe(200);
  }
  expect(seen).toHaveLength(2);
});

/** A local fake of fal's queue API: status, then result, each answer chosen by the test. */
async function fakeQueue(answers: Record<string, (res: ServerResponse) => void>) {
  const seen: { url: string; authorization: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    const answer = answers[req.url ?? ""];
    if (answer) answer(res);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = { baseUrl, credential: "fal-key", headers: { authorization: "Key fal-key" }, fetch, signal: new AbortController().signal };
  return { api, seen, close: () => closeServer(server) };
}

const json =
  (status: number, value: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));

test("read-back: the status, then the result, with Authorization: Key <apiKey>, as a webhook body that normalizes", async () => {
  const fake = await fakeQueue({
    "/fal-ai/flux/dev/requests/req-9/status": json(200, { status: "COMPLETED" }),
    "/fal-ai/flux/dev/requests/req-9": json(200, { images: [{ url: "https://v3.fal.media/files/x.png" }], seed: 3 }),
  });
  try {
    const body = await fetchFalRequest("fal-ai/flux/dev", "req-9", fake.api);
    expect(body).toEqual({
      request_id: "req-9",
      status: "OK",
      payload: { images: [{ url: "https://v3.fal.media/files/x.png" }], seed: 3 },
    });
    expect(fake.seen.map((s) => s.authorization)).toEqual(["Key fal-key", "Key fal-key"]);
    expect(fal.normalize(body, { resolveImageUrl: (p) => p, receivedAt: new Date() })).toMatchObject({
      status: "completed",
      images: [{ url: "https://v3.fal.media/files/x.png" }],
    });
    // Through the provider, the app comes from the tracked generation's `app`.
    await expect(fal.fetchGeneration!("req-9", { ...fake.api, app: "fal-ai/flux/dev" })).resolves.toEqual(body);
  } finally {
    await fake.close();
  }
});

test("read-back of a request still in the queue is a body of its queue status, which normalizes as processing", async () => {
  const fake = await fakeQueue({ "/fal-ai/flux/dev/requests/req-1/status": json(202, { status: "IN_PROGRESS" }) });
  try {
    const body = await fetchFalRequest("fal-ai/flux/dev", "req-1", fake.api);
    expect(body).toEqual({ request_id: "req-1", status: "IN_PROGRESS", payload: null });
    expect(fal.normalize(body, { resolveImageUrl: (p) => p, receivedAt: new Date() }).status).toBe("processing");
  } finally {
    await fake.close();
  }
});

test("read-back without the app fails with a message that says how to give it", async () => {
  const fake = await fakeQueue({});
  try {
    await expect(fal.fetchGeneration!("req-1", fake.api)).rejects.toThrow(
      /needs the request's app .*generations\.track\("fal", id, \{ app \}\)/,
    );
    expect(fake.seen).toHaveLength(0);
  } finally {
    await fake.close();
  }
});

test.each([
  [401, {}, undefined],
  [404, {}, undefined],
  [429, { "retry-after": "7" }, 7000],
  [500, {}, undefined],
])("read-back answered %i is a ProviderApiError with that status", async (status, headers, retryAfterMs) => {
  const fake = await fakeQueue({ "/fal-ai/flux/dev/requests/req-1/status": json(status, { detail: "no" }, headers) });
  try {
    const failure = (await fetchFalRequest("fal-ai/flux/dev", "req-1", fake.api).catch((err: unknown) => err)) as ProviderApiError;
    expect(failure).toBeInstanceOf(ProviderApiError);
    expect(failure.status).toBe(status);
    expect(failure.retryAfterMs).toBe(retryAfterMs);
  } finally {
    await fake.close();
  }
});

test.each([
  [
    "a status body that is not JSON",
    { "/fal-ai/flux/dev/requests/req-1/status": (res: ServerResponse) => res.writeHead(200).end("<html>") },
  ],
  ["a status without a status", { "/fal-ai/flux/dev/requests/req-1/status": json(200, { queue_position: 1 }) }],
  [
    "a result that is not an object",
    { "/fal-ai/flux/dev/requests/req-1/status": json(200, { status: "COMPLETED" }), "/fal-ai/flux/dev/requests/req-1": json(200, [1, 2]) },
  ],
])("read-back answered with %s is a ProviderApiError", async (_, answers) => {
  const fake = await fakeQueue(answers);
  try {
    await expect(fetchFalRequest("fal-ai/flux/dev", "req-1", fake.api)).rejects.toBeInstanceOf(ProviderApiError);
  } finally {
    await fake.close();
  }
});

const jwksServerAt = (initial: JWK[]) => jwksServer(initial, { path: "/.well-known/jwks.json", failStatus: 500 });
