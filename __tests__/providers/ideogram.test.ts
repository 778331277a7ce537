/**
 * Ideogram: its documented delivery, signed with node:crypto's own `sign(null, …)` over the four
 * documented lines under a named key, is received, verified, normalized and emitted; forgeries,
 * tampering, stale timestamps and another account's deliveries are refused; a key rotated in is
 * accepted on its first unknown `kid` (a local JWKS server); an unreachable JWKS is a 503; the
 * read-back is tested against a local fake of Ideogram's API.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JWK } from "jose";
import { createWebhooks, ProviderApiError, type AnyWebhookEvent } from "../../lib/entries/index";
import { ideogram, type IdeogramPayload } from "../../lib/providers/ideogram";
import { buildDelivery, ed25519TestKeys, ideogramExample, signIdeogramDelivery } from "../../lib/entries/testing";
import { closeServer, jwksServer } from "../helpers/loopback-server";

const USER = "ideogram-user-1";
const documented =
  '{"generation_id":"xtdZiqPwRxqY1Y7NExFmzB","created":"2025-01-23T04:56:07Z","data":[{"url":"https://ideogram.ai/api/images/ephemeral/xtdZiqPwRxqY1Y7NExFmzB.png","prompt":"A photo of a cat","resolution":"2048x2048","seed":12345,"is_image_safe":true}]}';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What Ideogram sends, built by hand from its documentation. */
function ideogramHeaders(key: KeyObject, kid: string, raw: string, options: { userId?: string; timestamp?: number } = {}) {
  const { userId = USER, timestamp = nowSeconds() } = options;
  const id = (JSON.parse(raw) as { generation_id: string }).generation_id;
  const message = [id, userId, String(timestamp), createHash("sha256").update(raw).digest("hex")].join("\n");
  return {
    "content-type": "application/json",
    "x-ideogram-webhook-generation-id": id,
    "x-ideogram-webhook-user-id": userId,
    "x-ideogram-webhook-timestamp": String(timestamp),
    "x-ideogram-webhook-key-id": kid,
    "x-ideogram-webhook-signature": sign(null, Buffer.from(message), key).toString("hex"),
  };
}

function keyPair(kid: string): { privateKey: KeyObject; jwk: JWK } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, jwk: { ...(publicKey.export({ format: "jwk" }) as JWK), kid } };
}

function receiver(options: Record<string, unknown>) {
  const webhooks = createWebhooks({ providers: { ideogram: options } });
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of ["ideogram.completed", "generation.completed"] as const) webhooks.on(name, () => void names.push(name));
  const send = (raw: string, headers: Record<string, string>) => webhooks.receive({ provider: "ideogram", headers, rawBody: raw });
  return { events, names, send };
}

test("Ideogram's documented delivery, verbatim and signed, is emitted as ideogram.completed and generation.completed", async () => {
  const key = keyPair("key-1");
  const { events, names, send } = receiver({ userId: USER, jwks: { keys: [key.jwk] } });
  expect(JSON.parse(documented)).toEqual(ideogramExample);
  expect((await send(documented, ideogramHeaders(key.privateKey, "key-1", documented))).status).toBe(200);
  expect(names).toEqual(["ideogram.completed", "generation.completed"]);
  expect(events[0]).toMatchObject({ id: "xtdZiqPwRxqY1Y7NExFmzB:completed" });
  expect(events[0]?.generation).toEqual({
    provider: "ideogram",
    id: "xtdZiqPwRxqY1Y7NExFmzB",
    status: "completed",
    images: [{ url: "https://ideogram.ai/api/images/ephemeral/xtdZiqPwRxqY1Y7NExFmzB.png" }],
    prompt: "A photo of a cat",
    params: { resolution: "2048x2048", seed: 12345 },
    createdAt: "2025-01-23T04:56:07Z",
  });
  // A retry of the same webhook is a duplicate.
  expect((await send(documented, ideogramHeaders(key.privateKey, "key-1", documented))).status).toBe(200);
  expect(events).toHaveLength(1);
});

test.each([
  ["a forged signature (another key under the same kid)", (raw: string) => ideogramHeaders(keyPair("key-1").privateKey, "key-1", raw)],
  ["a tampered body", (raw: string, key: KeyObject) => ideogramHeaders(key, "key-1", raw.replace("cat", "dog"))],
  ["a stale timestamp", (raw: string, key: KeyObject) => ideogramHeaders(key, "key-1", raw, { timestamp: nowSeconds() - 301 })],
  ["an unknown key id", (raw: string, key: KeyObject) => ideogramHeaders(key, "key-9", raw)],
  [
    "no key id",
    (raw: string, key: KeyObject) => {
      const { "x-ideogram-webhook-key-id": _, ...rest } = ideogramHeaders(key, "key-1", raw);
      return rest;
    },
  ],
])("%s is refused with 401 auth.failed", async (_, headers) => {
  const key = keyPair("key-1");
  const { events, send } = receiver({ userId: USER, jwks: { keys: [key.jwk] } });
  const answer = await send(documented, headers(documented, key.privateKey));
  expect(answer.status).toBe(401);
  expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:imagegen-webhooks:problem:auth.failed" });
  expect(events).toHaveLength(0);
});

test("another account's delivery, validly signed, is refused with 401 auth.wrong-account", async () => {
  const key = keyPair("key-1");
  const { events, send } = receiver({ userId: USER, jwks: { keys: [key.jwk] } });
  const answer = await send(documented, ideogramHeaders(key.privateKey, "key-1", documented, { userId: "someone-else" }));
  expect(answer.status).toBe(401);
  expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:imagegen-webhooks:problem:auth.wrong-account" });
  expect(events).toHaveLength(0);
});

test("a key rotated in is accepted on the first delivery under its unknown kid, with one more fetch", async () => {
  const first = keyPair("key-2026-01");
  const rotated = keyPair("key-2026-02");
  const server = await jwksServerAt([first.jwk]);
  try {
    const { events, send } = receiver({ userId: USER, jwksUrl: server.url });
    expect((await send(documented, ideogramHeaders(first.privateKey, "key-2026-01", documented))).status).toBe(200);
    server.setKeys([first.jwk, rotated.jwk]);
    // Past jose's 30 s cooldown since the first fetch: the clock is moved instead of waited for.
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, "now").mockImplementation(() => realNow() + 31_000);
    const raw = JSON.stringify(buildDelivery("ideogram"));
    expect((await send(raw, ideogramHeaders(rotated.privateKey, "key-2026-02", raw))).status).toBe(200);
    expect(events).toHaveLength(2);
    expect(server.requests()).toBe(2);
  } finally {
    jest.restoreAllMocks();
    await server.close();
  }
});

test("a JWKS that cannot be fetched is answered 503 with Retry-After", async () => {
  const server = await jwksServerAt([]);
  server.fail();
  try {
    const { send } = receiver({ userId: USER, jwksUrl: server.url });
    const answer = await send(documented, ideogramHeaders(keyPair("key-1").privateKey, "key-1", documented));
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toBe("30");
  } finally {
    await server.close();
  }
});

test("the testing hooks sign with the user's own key pair and its kid", async () => {
  const keys = ed25519TestKeys();
  const { events, send } = receiver({ userId: USER, jwks: keys.jwks });
  const raw = JSON.stringify(buildDelivery("ideogram"));
  const headers = signIdeogramDelivery(raw, { privateKey: keys.privateKey, userId: USER, kid: keys.kid });
  expect((await send(raw, { "content-type": "application/json", ...headers })).status).toBe(200);
  expect(events[0]?.generation.images).toHaveLength(1);
});

async function fakeApi(answer: (res: ServerResponse) => void) {
  const seen: { url: string; key: string | undefined }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", key: req.headers["api-key"] as string | undefined });
    answer(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = { baseUrl, credential: "ik", headers: { "api-key": "ik" }, fetch, signal: new AbortController().signal };
  return { api, seen, close: () => closeServer(server) };
}

const json =
  (status: number, value: unknown, headers: Record<string, string> = {}) =>
  (res: ServerResponse) =>
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(value));

test("read-back: GET /v1/generations/<id> with Api-Key, its status beside the webhook's fields", async () => {
  const fake = await fakeApi(json(200, { status: "failed", data: [], error: "unsafe prompt" }));
  try {
    const body = await ideogram.fetchGeneration!("gen-1", fake.api);
    expect(fake.seen).toEqual([{ url: "/v1/generations/gen-1", key: "ik" }]);
    expect(ideogram.normalize(body as IdeogramPayload, { resolveImageUrl: (p) => p, receivedAt: new Date() })).toMatchObject({
      id: "gen-1",
      status: "failed",
      error: "unsafe prompt",
    });
  } finally {
    await fake.close();
  }
});

test.each([
  [401, {}, undefined],
  [404, {}, undefined],
  [429, { "retry-after": "12" }, 12_000],
  [500, {}, undefined],
])("read-back answered %i is a ProviderApiError with that status", async (status, headers, retryAfterMs) => {
  const fake = await fakeApi(json(status, { message: "no" }, headers));
  try {
    const failure = (await ideogram.fetchGeneration!("gen-1", fake.api).catch((err: unknown) => err)) as ProviderApiError;
    expect(failure).toBeInstanceOf(ProviderApiError);
    expect(failure.status).toBe(status);
    expect(failure.retryAfterMs).toBe(retryAfterMs);
  } finally {
    await fake.close();
  }
});

test.each([
  ["not JSON", (res: ServerResponse) => res.writeHead(200).end("<html>")],
  ["no status", json(200, { data: [] })],
])("read-back answered with %s is a ProviderApiError", async (_, answer) => {
  const fake = await fakeApi(answer);
  try {
    await expect(ideogram.fetchGeneration!("gen-1", fake.api)).rejects.toBeInstanceOf(ProviderApiError);
  } finally {
    await fake.close();
  }
});

const jwksServerAt = (initial: JWK[]) => jwksServer(initial, { path: "/v1/.well-known/jwks.json", failStatus: 503 });
