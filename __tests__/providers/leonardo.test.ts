// Leonardo.ai: its documented callback received with the webhook key as `Authorization: Bearer`,
// normalized and emitted; a wrong key refused; its generations read back from a local fake of its
// API (GET /api/rest/v1/generations/{id}, `{ generations_by_pk }`), errors included; its
// deliveries sent and simulated as Leonardo sends them, by the testing helpers and the CLI.
import type { IncomingMessage, ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { createWebhooks, type AnyWebhookEvent, type Webhooks } from "imagegen-webhooks";
import { leonardoDelivery, playJob, sendDelivery, simulateJob } from "imagegen-webhooks/testing";
import { main } from "../../lib/cli/index";
import documented from "../fixtures/leonardo-image-generation-complete.json";
import { loopbackServers } from "../helpers/loopback-server";

const KEY = "leonardo-webhook-key";
const API_KEY = "leonardo-api-key";

const { listen, closeAll } = loopbackServers();
const receivers: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  await closeAll();
});

function receiver(options: { apiBaseUrl?: string } = {}) {
  const webhooks = createWebhooks({
    providers: { leonardo: { secret: KEY, apiKey: API_KEY, ...(options.apiBaseUrl && { apiBaseUrl: options.apiBaseUrl }) } },
  });
  receivers.push(webhooks);
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of ["leonardo.image_generation.complete", "leonardo", "generation.completed", "generation.failed"] as const) {
    webhooks.on(name, () => void names.push(name));
  }
  const send = (body: unknown, authorization: string | null = `Bearer ${KEY}`) => {
    const rawBody = typeof body === "string" ? body : JSON.stringify(body);
    return webhooks.receive({
      provider: "leonardo",
      headers: { "content-type": "application/json", ...(authorization !== null && { authorization }) },
      rawBody,
    });
  };
  return { webhooks, events, names, send };
}

test("the documented callback, verbatim, with the webhook key as Authorization: Bearer, is emitted and normalized", async () => {
  const { events, names, send } = receiver();
  expect(await send(documented)).toEqual({ status: 200, headers: {}, body: "" });
  expect(names).toEqual(["leonardo.image_generation.complete", "leonardo", "generation.completed"]);
  const { generation } = events[0]!;
  expect(generation).toMatchObject({
    provider: "leonardo",
    id: "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX",
    status: "completed",
    prompt: "An oil painting of a cat",
    createdAt: "2023-11-09T00:42:22.707Z",
    images: [
      {
        id: "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX",
        url: "https://cdn.leonardo.ai/users/XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX/generations/XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX/Leonardo_Creative_An_oil_painting_of_a_cat_0.jpg",
      },
    ],
  });
  expect(generation.params).toMatchObject({ modelId: "6bef9f1b-29cb-40c7-b9df-32b51c1f67d3", seed: "905778432", imageWidth: 512 });
  // The callback echoes the API key object, webhook key included: it stays out of the generation.
  expect(JSON.stringify(generation)).not.toContain("webhookCallbackApiKey");
  expect(generation.params).not.toHaveProperty("apiKey");
  expect(events[0]!.payload).toEqual(documented);
});

test.each([
  ["COMPLETE", "completed"],
  ["FAILED", "failed"],
  ["PENDING", "processing"],
  ["complete", "completed"],
  ["A_NEW_STATUS", "unknown"],
])("status %s is generation.%s", async (status, normalized) => {
  const { events, send } = receiver();
  expect((await send(leonardoDelivery(status))).status).toBe(200);
  expect(events.map((e) => [e.name, e.generation.status])).toEqual([["leonardo.image_generation.complete", normalized]]);
});

test("a failed generation carries no images, and a reason where one is sent", async () => {
  const { events, send } = receiver();
  await send(leonardoDelivery("FAILED", { data: { object: { failedReason: "moderated" } } }));
  expect(events[0]?.generation).toMatchObject({ status: "failed", images: [], error: "moderated" });
});

test("the same callback sent again, even with a new timestamp, is a duplicate; another generation is not", async () => {
  const { events, send } = receiver();
  const first = leonardoDelivery("COMPLETE");
  await send(first);
  await send({ ...first, timestamp: (first.timestamp ?? 0) + 5000 });
  await send(leonardoDelivery("COMPLETE"));
  expect(events).toHaveLength(2);
});

test.each([
  ["no Authorization", null],
  ["a wrong key", "Bearer not-the-key"],
  ["the key without Bearer", KEY],
  ["another scheme", `Basic ${KEY}`],
])("%s is refused with 401 and leaves no event", async (_label, authorization) => {
  const { events, send } = receiver();
  const answer = await send(leonardoDelivery(), authorization);
  expect(answer.status).toBe(401);
  expect(answer.headers["content-type"]).toMatch(/application\/problem\+json/);
  expect(events).toEqual([]);
});

test.each([
  ["no data", { type: "image_generation.complete" }, "", "must have required property 'data'"],
  [
    "a generation without an id",
    { type: "image_generation.complete", data: { object: { status: "COMPLETE" } } },
    "/data/object",
    "must have required property 'id'",
  ],
  [
    "images that are not a list",
    { type: "image_generation.complete", data: { object: { id: "g", status: "COMPLETE", images: "x" } } },
    "/data/object/images",
    "must be array",
  ],
])("the schema refuses %s with 400", async (_label, body, instancePath, message) => {
  const { events, send } = receiver();
  const answer = await send(body);
  expect(answer.status).toBe(400);
  expect(JSON.parse(answer.body).errors).toContainEqual({ instancePath, message });
  expect(events).toEqual([]);
});

test("configured with a signature, the message says Leonardo sends a token", () => {
  expect(() => createWebhooks({ providers: { leonardo: { signature: { secret: `whsec_${"A".repeat(40)}` } } } })).toThrow(
    /cannot be authenticated by signature: set providers\.leonardo\.secret/,
  );
});

describe("read-back: GET {apiBaseUrl}/api/rest/v1/generations/{id} with Authorization: Bearer <apiKey>", () => {
  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  /** The API's answer: the generation under `generations_by_pk`, its images as `generated_images`. */
  const apiAnswer = (id: string, status: string) => {
    const { images, ...generation } = leonardoDelivery(status, { data: { object: { id } } }).data.object;
    return { generations_by_pk: { ...generation, generated_images: images } };
  };

  test("a generation that ended is reconciled: its events fire with origin reconciled, its images read from generated_images", async () => {
    const requests: IncomingMessage[] = [];
    const api = await listen((req, res) => {
      requests.push(req);
      json(res, 200, apiAnswer(decodeURIComponent(req.url!.split("/").pop()!), "COMPLETE"));
    });
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    const id = "3f1c2b8e-0d7a-4c4e-9a53-2f6e1d0b7c91";
    await expect(webhooks.reconcile("leonardo", id)).resolves.toEqual({
      provider: "leonardo",
      id,
      status: "completed",
      outcome: "emitted",
    });
    expect(requests[0]?.url).toBe(`/api/rest/v1/generations/${id}`);
    expect(requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(events.map((e) => [e.name, e.origin])).toEqual([["leonardo.image_generation.complete", "reconciled"]]);
    expect(events[0]?.generation.images).toHaveLength(4);
    // Read back again, it is already known.
    await expect(webhooks.reconcile("leonardo", id)).resolves.toMatchObject({ outcome: "known" });
  });

  test("a generation still PENDING is open: nothing fires", async () => {
    const api = await listen((req, res) => json(res, 200, apiAnswer("g-pending", "PENDING")));
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    await expect(webhooks.reconcile("leonardo", "g-pending")).resolves.toMatchObject({ status: "processing", outcome: "open" });
    expect(events).toEqual([]);
  });

  test.each([
    ["401", (res: ServerResponse) => json(res, 401, { error: "Invalid token" }), { status: 401 }],
    ["404", (res: ServerResponse) => json(res, 404, { error: "not found" }), { status: 404 }],
    ["generations_by_pk null", (res: ServerResponse) => json(res, 200, { generations_by_pk: null }), { status: 404 }],
    [
      "429 with Retry-After",
      (res: ServerResponse) => json(res, 429, { error: "slow down" }, { "retry-after": "7" }),
      { status: 429, retryAfterMs: 7000 },
    ],
    ["500", (res: ServerResponse) => json(res, 500, { error: "internal" }), { status: 500 }],
    ["a body that is not JSON", (res: ServerResponse) => json(res, 200, "{not json"), { message: expect.stringMatching(/not JSON/) }],
    [
      "an answer without generations_by_pk",
      (res: ServerResponse) => json(res, 200, { hello: "world" }),
      { message: expect.stringMatching(/schema/) },
    ],
    [
      "an answer about another generation",
      (res: ServerResponse) => json(res, 200, apiAnswer("someone-else", "COMPLETE")),
      { message: expect.stringMatching(/another generation/) },
    ],
  ])("the API answering %s: reconcile rejects with a ProviderApiError, nothing fires", async (_label, answer, expected) => {
    const api = await listen((_req, res) => answer(res));
    const { webhooks, events } = receiver({ apiBaseUrl: api });
    await expect(webhooks.reconcile("leonardo", "g-1")).rejects.toMatchObject({ name: "ProviderApiError", ...expected });
    expect(events).toEqual([]);
  });
});

describe("sent and simulated as Leonardo sends them (Authorization: Bearer)", () => {
  async function app() {
    const { webhooks, events } = receiver();
    const url = await listen(webhooks.middleware());
    return { url: `${url}/leonardo`, events };
  }

  test("sendDelivery with tokenIn bearer is accepted; its X-Webhook-Token default is accepted too", async () => {
    const { url, events } = await app();
    expect((await sendDelivery(url, { body: leonardoDelivery(), secret: KEY, tokenIn: "bearer" })).status).toBe(200);
    expect((await sendDelivery(url, { body: leonardoDelivery(), secret: KEY })).status).toBe(200);
    expect((await sendDelivery(url, { body: leonardoDelivery(), secret: "wrong", tokenIn: "bearer" })).status).toBe(401);
    expect(events).toHaveLength(2);
  });

  test.each(["completed", "failed"] as const)("a simulated %s job is one callback, accepted and ending the generation", async (outcome) => {
    const { url, events } = await app();
    const job = simulateJob("leonardo", { seed: 7, outcome, retry: true, images: 3 });
    expect(job.deliveries.map((d) => d.retry)).toEqual([false, true]);
    const played = await playJob(job, { url, secret: KEY, tokenIn: "bearer", timeScale: 0 });
    expect(played.map(({ response }) => response.status)).toEqual([200, 200]);
    expect(events).toHaveLength(1);
    expect(events[0]?.generation).toMatchObject({ id: job.id, status: outcome });
    expect(events[0]?.generation.images).toHaveLength(outcome === "completed" ? 3 : 0);
  });

  test("the CLI's send and simulate put --secret in Authorization: Bearer for Leonardo", async () => {
    const seen: (string | undefined)[] = [];
    const { webhooks } = receiver();
    const middleware = webhooks.middleware();
    const base = await listen((req, res) => {
      seen.push(req.headers.authorization);
      middleware(req, res);
    });
    const out = new PassThrough();
    let printed = "";
    out.on("data", (chunk) => (printed += String(chunk)));
    expect(await main(["send", "leonardo", "image_generation.complete", "--url", `${base}/leonardo`, "--secret", KEY], out)).toBe(0);
    expect(await main(["simulate", "leonardo", "--url", `${base}/leonardo`, "--secret", KEY, "--speed", "0", "--no-retry"], out)).toBe(0);
    expect(seen).toEqual([`Bearer ${KEY}`, `Bearer ${KEY}`]);
    expect(printed).toMatch(/leonardo image_generation\.complete: 200/);
  });
});
