// Black Forest Labs: its documented webhook received with `X-BFL-Signature: sha256=<hex HMAC-SHA256
// (webhook_secret, raw body)>` (computed here with Node's own crypto, independently of the package),
// normalized and emitted; forged signatures and tampered bodies refused; a replay deduplicated (the
// scheme signs no timestamp); its tasks read back from a local fake of its API (GET
// /v1/get_result?id=, `x-key`), errors included; its deliveries sent, simulated and signed as BFL
// signs them, by the testing helpers and the CLI.
import { createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { createWebhooks, openapiDocument, type AnyWebhookEvent, type Webhooks } from "imagegen-webhooks";
import { bflDelivery, bodySigner, playJob, sendDelivery, simulateJob } from "imagegen-webhooks/testing";
import { main } from "../../lib/cli/index";
import { providers } from "../../lib/providers/index";
import documented from "../fixtures/bfl-ready.json";
import { loopbackServers } from "../helpers/loopback-server";

const SECRET = "bfl-webhook-secret-of-the-request";
const API_KEY = "bfl-api-key";

/** The header as BFL's skill files document it, computed with node:crypto. */
const bflSignature = (rawBody: string, secret = SECRET) => `sha256=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;

const { listen, closeAll } = loopbackServers();
const receivers: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  await closeAll();
});

function receiver(options: { apiBaseUrl?: string; secret?: string | string[] } = {}) {
  const webhooks = createWebhooks({
    providers: {
      bfl: {
        signature: { secret: options.secret ?? SECRET },
        apiKey: API_KEY,
        ...(options.apiBaseUrl && { apiBaseUrl: options.apiBaseUrl }),
      },
    },
  });
  receivers.push(webhooks);
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of ["bfl.Ready", "bfl.Error", "bfl", "generation.completed", "generation.failed"] as const) {
    webhooks.on(name, () => void names.push(name));
  }
  const sendRaw = (rawBody: string, signature: string | null = bflSignature(rawBody)) =>
    webhooks.receive({
      provider: "bfl",
      headers: { "content-type": "application/json", ...(signature !== null && { "x-bfl-signature": signature }) },
      rawBody,
    });
  const send = (body: unknown) => sendRaw(JSON.stringify(body));
  return { webhooks, events, names, send, sendRaw };
}

test("the documented webhook, verbatim and signed as documented, is emitted as bfl.Ready and generation.completed", async () => {
  const { events, names, sendRaw } = receiver();
  const raw = JSON.stringify(documented);
  expect(await sendRaw(raw)).toEqual({ status: 200, headers: {}, body: "" });
  expect(names).toEqual(["bfl.Ready", "bfl", "generation.completed"]);
  expect(events[0]?.generation).toEqual({
    provider: "bfl",
    id: "gen_abc123xyz",
    status: "completed",
    images: [{ url: "https://…" }],
    prompt: "…",
    params: { seed: 1234567890 },
    createdAt: "2025-01-15T10:30:00.000Z",
  });
  expect(events[0]?.payload).toEqual(documented);
});

test.each([
  ["Pending", "processing"],
  ["Ready", "completed"],
  ["Error", "failed"],
  ["Request Moderated", "failed"],
  ["Content Moderated", "failed"],
  ["Task not found", "unknown"],
  ["Something New", "unknown"],
])("status %s is generation.%s", async (status, normalized) => {
  const { events, send } = receiver();
  expect((await send(bflDelivery(status))).status).toBe(200);
  expect(events.map((e) => [e.name, e.generation.status])).toEqual([[`bfl.${status}`, normalized]]);
});

test("a failure's error, else its message, else its moderation status, becomes generation.error", async () => {
  const { events, send } = receiver();
  await send(bflDelivery("Error", { error: "Internal error during generation" }));
  await send(bflDelivery("Error", { error: undefined, message: "GPU lost" }));
  await send(bflDelivery("Content Moderated"));
  expect(events.map((e) => e.generation.error)).toEqual(["Internal error during generation", "GPU lost", "Content Moderated"]);
  expect(events.every((e) => e.generation.images.length === 0)).toBe(true);
});

test("no timestamp is signed: a replayed delivery still verifies, and dedupe keeps it from running twice", async () => {
  const { events, webhooks, sendRaw } = receiver();
  const duplicates: unknown[] = [];
  webhooks.on("duplicate", (event) => void duplicates.push(event));
  const raw = JSON.stringify(bflDelivery("Ready", { timestamp: "2020-01-01T00:00:00Z" }));
  expect((await sendRaw(raw)).status).toBe(200);
  expect((await sendRaw(raw)).status).toBe(200);
  expect(events).toHaveLength(1);
  expect(duplicates).toHaveLength(1);
});

describe("forged and tampered deliveries are 401, and leave no event", () => {
  const body = JSON.stringify(bflDelivery("Ready", { id: "task-1" }));
  test.each([
    ["no signature", body, null],
    ["another secret's signature", body, bflSignature(body, "an attacker's secret")],
    ["a tampered body under the original signature", body.replace("task-1", "task-2"), bflSignature(body)],
    ["the digest without its sha256= prefix", body, bflSignature(body).slice("sha256=".length)],
    ["another algorithm's prefix", body, bflSignature(body).replace("sha256=", "sha512=")],
    ["a truncated digest", body, bflSignature(body).slice(0, -2)],
    ["a digest that is not hex", body, `sha256=${"zz".repeat(32)}`],
  ])("%s", async (_label, rawBody, signature) => {
    const { events, sendRaw } = receiver();
    const answer = await sendRaw(rawBody, signature);
    expect(answer.status).toBe(401);
    expect(answer.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(events).toEqual([]);
  });

  test("a token is not accepted in place of the signature", async () => {
    const { webhooks, events } = receiver();
    const answer = await webhooks.receive({
      provider: "bfl",
      headers: { "content-type": "application/json", authorization: `Bearer ${SECRET}` },
      query: { token: SECRET },
      rawBody: body,
    });
    expect(answer.status).toBe(401);
    expect(events).toEqual([]);
  });
});

test("while rotating, a delivery signed with either secret is accepted", async () => {
  const { events, sendRaw } = receiver({ secret: ["old-secret", SECRET] });
  const a = JSON.stringify(bflDelivery());
  const b = JSON.stringify(bflDelivery());
  expect((await sendRaw(a, bflSignature(a, "old-secret"))).status).toBe(200);
  expect((await sendRaw(b, bflSignature(b, SECRET))).status).toBe(200);
  expect(events).toHaveLength(2);
});

test("configuration mistakes say what to change", () => {
  expect(() => createWebhooks({ providers: { bfl: {} } })).toThrow(/has no secret: set providers\.bfl\.signature \(\{ secret: "…" \}/);
  expect(() => createWebhooks({ providers: { bfl: { secret: "token" } } })).toThrow(/cannot be authenticated by token/);
  expect(() => createWebhooks({ providers: { bfl: { signature: { secret: "" } } } })).toThrow(/providers\.bfl\.signature\.secret must be/);
  expect(() => createWebhooks({ providers: { bfl: { signature: { secret: "s", toleranceSeconds: 300 } } } })).toThrow(
    /bfl signs no timestamp/,
  );
});

describe("read-back: GET {apiBaseUrl}/v1/get_result?id=<id> with x-key", () => {
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  /** The API's ResultResponse: the webhook's fields without timestamp, with progress, details, preview. */
  const resultResponse = (id: string, status: string) => {
    const { timestamp: _timestamp, ...task } = bflDelivery(status, { id });
    return { ...task, progress: status === "Pending" ? 0.4 : null, details: null, preview: null };
  };

  test("a task that ended is reconciled: its events fire with origin reconciled", async () => {
    const requests: IncomingMessage[] = [];
    const api = await listen((req, res) => {
      requests.push(req);
      json(res, 200, resultResponse(new URL(req.url!, "http://x").searchParams.get("id")!, "Ready"));
    });
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    const id = "7c2f4e1a-9b3d-4f6e-8a1c-2d5e7f9b0c3a";
    await expect(webhooks.reconcile("bfl", id)).resolves.toEqual({ provider: "bfl", id, status: "completed", outcome: "emitted" });
    expect(requests[0]?.url).toBe(`/v1/get_result?id=${id}`);
    expect(requests[0]?.headers["x-key"]).toBe(API_KEY);
    expect(events.map((e) => [e.name, e.origin])).toEqual([["bfl.Ready", "reconciled"]]);
    expect(events[0]?.generation.images).toHaveLength(1);
  });

  test("a task still Pending is open: nothing fires", async () => {
    const api = await listen((_req, res) => json(res, 200, resultResponse("t-pending", "Pending")));
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    await expect(webhooks.reconcile("bfl", "t-pending")).resolves.toMatchObject({ status: "processing", outcome: "open" });
    expect(events).toEqual([]);
  });

  test.each([
    ["401", (res: ServerResponse) => json(res, 401, { detail: "Not authenticated" }), { status: 401 }],
    ["404", (res: ServerResponse) => json(res, 404, { detail: "Not found" }), { status: 404 }],
    ["Task not found", (res: ServerResponse) => json(res, 200, { id: "t-1", status: "Task not found", result: null }), { status: 404 }],
    [
      "429 with Retry-After",
      (res: ServerResponse) => json(res, 429, { detail: "slow down" }, { "retry-after": "3" }),
      { status: 429, retryAfterMs: 3000 },
    ],
    ["500", (res: ServerResponse) => json(res, 500, { detail: "internal" }), { status: 500 }],
    ["a body that is not JSON", (res: ServerResponse) => json(res, 200, "{not json"), { message: expect.stringMatching(/not JSON/) }],
    [
      "a body that is not a task",
      (res: ServerResponse) => json(res, 200, { hello: "world" }),
      { message: expect.stringMatching(/schema/) },
    ],
    [
      "an answer about another task",
      (res: ServerResponse) => json(res, 200, resultResponse("someone-else", "Ready")),
      { message: expect.stringMatching(/another generation/) },
    ],
  ])("the API answering %s: reconcile rejects with a ProviderApiError, nothing fires", async (_label, answer, expected) => {
    const api = await listen((_req, res) => answer(res));
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    await expect(webhooks.reconcile("bfl", "t-1")).rejects.toMatchObject({ name: "ProviderApiError", ...expected });
    expect(events).toEqual([]);
  });
});

describe("sent, simulated and signed as BFL signs (X-BFL-Signature)", () => {
  async function app() {
    const { webhooks, events } = receiver();
    const url = await listen(webhooks.middleware());
    return { url: `${url}/bfl`, events };
  }

  test("bodySigner signs the exact bytes sent: accepted; under another secret refused", async () => {
    const { url, events } = await app();
    const sign = bodySigner(providers.bfl, SECRET)!;
    const raw = JSON.stringify(bflDelivery());
    expect(sign(raw)).toEqual({ "x-bfl-signature": bflSignature(raw) });
    expect((await sendDelivery(url, { body: bflDelivery(), sign })).status).toBe(200);
    expect((await sendDelivery(url, { body: bflDelivery(), sign: bodySigner(providers.bfl, "wrong")! })).status).toBe(401);
    expect(events).toHaveLength(1);
    // A provider that signs the Standard Webhooks way has no body signer.
    expect(bodySigner(providers.replicate, SECRET)).toBeUndefined();
  });

  test.each(["completed", "failed"] as const)(
    "a simulated %s task is one webhook, signed, accepted, ending the generation",
    async (outcome) => {
      const { url, events } = await app();
      const job = simulateJob("bfl", { seed: 11, outcome, retry: true });
      expect(job.deliveries.map((d) => d.retry)).toEqual([false, true]);
      const played = await playJob(job, { url, sign: bodySigner(providers.bfl, SECRET)!, timeScale: 0 });
      expect(played.map(({ response }) => response.status)).toEqual([200, 200]);
      expect(events).toHaveLength(1);
      expect(events[0]?.generation).toMatchObject({ id: job.id, status: outcome });
      expect(events[0]?.generation.images).toHaveLength(outcome === "completed" ? 1 : 0);
    },
  );

  test("the CLI's --signing-secret signs BFL's deliveries with X-BFL-Signature, for send and simulate", async () => {
    const seen: (string | undefined)[] = [];
    const { webhooks } = receiver();
    const middleware = webhooks.middleware();
    const base = await listen((req, res) => {
      seen.push(req.headers["x-bfl-signature"] as string | undefined);
      middleware(req, res);
    });
    const out = new PassThrough();
    let printed = "";
    out.on("data", (chunk) => (printed += String(chunk)));
    expect(await main(["send", "bfl", "Ready", "--url", `${base}/bfl`, "--signing-secret", SECRET], out)).toBe(0);
    expect(await main(["simulate", "bfl", "--url", `${base}/bfl`, "--signing-secret", SECRET, "--speed", "0", "--no-retry"], out)).toBe(0);
    expect(await main(["send", "bfl", "Ready", "--url", `${base}/bfl`, "--signing-secret", "wrong"], out)).toBe(1);
    expect(seen).toHaveLength(3);
    expect(seen.every((value) => /^sha256=[0-9a-f]{64}$/.test(value ?? ""))).toBe(true);
    expect(printed).toMatch(/bfl Ready: 200/);
  });
});

test("the OpenAPI document describes BFL's signature as its own header scheme, with no Standard Webhooks headers", () => {
  const doc = openapiDocument() as unknown as {
    webhooks: Record<string, { post: { security: Record<string, unknown>[]; parameters?: unknown[] } }>;
    components: { securitySchemes: Record<string, { type: string; in: string; name: string; description: string }> };
  };
  expect(doc.webhooks.bfl!.post.security).toEqual([{ "bodyHmac-x-bfl-signature": [] }]);
  expect(doc.webhooks.bfl!.post.parameters).toBeUndefined();
  expect(doc.components.securitySchemes["bodyHmac-x-bfl-signature"]).toMatchObject({
    type: "apiKey",
    in: "header",
    name: "x-bfl-signature",
    description: expect.stringContaining("No timestamp is signed"),
  });
  // Leonardo's key is a token: its entry offers the token's schemes, Bearer among them.
  expect(doc.webhooks.leonardo!.post.security).toContainEqual({ bearer: [] });
});
