// Generations the app started (webhooks.generations): tracked right after the provider's create
// call, their events carry the app's metadata on whichever instance or worker handles them, a
// tracked one never heard of is read back from the provider's API (a local fake), get() says where
// each is, and wait() resolves when it ends, and leaves nothing behind once it settles.
import { randomUUID } from "node:crypto";
import { getEventListeners } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import {
  createWebhooks,
  defineProvider,
  GenerationWaitError,
  MemoryGenerations,
  type AnyWebhookEvent,
  type Logger,
  type Webhooks,
} from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { redisStore } from "imagegen-webhooks/redis";
import { ed25519TestKeys, replicateDelivery } from "imagegen-webhooks/testing";
import { receiveOk } from "../helpers/receive";
import { suiteRedisUrl } from "../helpers/redis-server";

jest.setTimeout(30_000);

const SECRET = "generations-test-secret";
const TOKEN = "r8_generations_token";

const servers: Server[] = [];
const receivers: Webhooks[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});
afterAll(() => clients.forEach((client) => client.disconnect()));

/** A fake Replicate API on loopback: GET /v1/predictions/{id} answers `answer(id)`; every request recorded. */
async function fakeReplicate(answer: (id: string) => unknown): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? "");
    const id = decodeURIComponent((req.url ?? "").split("/").pop() ?? "");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(answer(id)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** As docs/stores.md recommends it; `ready()` before its first command. */
function strictClient(connectionName?: string): Redis {
  const client = new Redis(suiteRedisUrl(), {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    ...(connectionName && { connectionName }),
  });
  clients.push(client);
  return client;
}

function redisClient(): Redis {
  const client = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: 1 });
  clients.push(client);
  return client;
}

async function ready(client: Redis): Promise<Redis> {
  if (client.status !== "ready") await new Promise((resolve) => client.once("ready", resolve));
  return client;
}

function webhooksWith(options: Partial<Parameters<typeof createWebhooks>[0]> = {}): Webhooks {
  const webhooks = createWebhooks({ providers: { replicate: { secret: SECRET } }, ...options } as Parameters<typeof createWebhooks>[0]);
  receivers.push(webhooks);
  return webhooks;
}

function recording(webhooks: Webhooks): AnyWebhookEvent[] {
  const events: AnyWebhookEvent[] = [];
  webhooks.on("generation", (event) => void events.push(event));
  return events;
}

const send = (webhooks: Webhooks, body: unknown) => receiveOk(webhooks, "replicate", body, SECRET);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(5);
  }
}

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return { debug: noop, info: noop, error: noop, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ""), warnings };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe.each([
  ["memory", () => ({})],
  ["Redis (redisStore)", () => ({ dedupe: redisStore(redisClient(), { keyPrefix: `gen-${randomUUID()}:` }) })],
])("in %s", (_mode, stores) => {
  test("get() after each step of a lifecycle: unknown, tracked, processing, completed with its images", async () => {
    const webhooks = webhooksWith(stores());
    const id = randomUUID();
    await expect(webhooks.generations.get("replicate", id)).resolves.toBeUndefined();

    const before = Date.now();
    await webhooks.generations.track("replicate", id, { metadata: { userId: "u_1", order: 42 } });
    const tracked = await webhooks.generations.get("replicate", id);
    expect(tracked).toEqual({
      provider: "replicate",
      id,
      status: "queued",
      images: [],
      metadata: { userId: "u_1", order: 42 },
      trackedAt: expect.stringMatching(ISO),
      lastHeardAt: undefined,
      origin: undefined,
    });
    expect(Date.parse(tracked!.trackedAt!)).toBeGreaterThanOrEqual(before);

    await send(webhooks, replicateDelivery("processing", { id }));
    expect(await webhooks.generations.get("replicate", id)).toEqual(
      expect.objectContaining({ status: "processing", images: [], origin: "webhook", lastHeardAt: expect.stringMatching(ISO) }),
    );

    const done = replicateDelivery("succeeded", { id });
    await send(webhooks, done);
    const ended = await webhooks.generations.get("replicate", id);
    expect(ended).toEqual(
      expect.objectContaining({
        status: "completed",
        metadata: { userId: "u_1", order: 42 },
        trackedAt: tracked!.trackedAt,
        origin: "webhook",
      }),
    );
    expect(ended!.images.map((image) => image.url)).toEqual(done.output);

    // A late, stale delivery changes nothing.
    await send(webhooks, replicateDelivery("processing", { id }));
    expect((await webhooks.generations.get("replicate", id))!.status).toBe("completed");
  });

  test("every event of a tracked generation carries its metadata; one not tracked carries none", async () => {
    const webhooks = webhooksWith(stores());
    const events = recording(webhooks);
    const id = randomUUID();
    await webhooks.generations.track("replicate", id, { metadata: { chatMessage: "m_9" } });
    await send(webhooks, replicateDelivery("starting", { id }));
    await send(webhooks, replicateDelivery("succeeded", { id }));
    await send(webhooks, replicateDelivery("succeeded"));
    expect(events.map((e) => [e.generation.status, e.metadata, e.generation.metadata])).toEqual([
      ["queued", { chatMessage: "m_9" }, { chatMessage: "m_9" }],
      ["completed", { chatMessage: "m_9" }, { chatMessage: "m_9" }],
      ["completed", undefined, undefined],
    ]);
    // The first delivery of a tracked generation is its first heard of: generation.queued fires, not stale.
    expect(events[0]!.generation.previousStatus).toBeUndefined();
  });

  test("a webhook that comes before the track keeps its status; the track adds the metadata", async () => {
    const webhooks = webhooksWith(stores());
    const events = recording(webhooks);
    const id = randomUUID();
    await send(webhooks, replicateDelivery("processing", { id }));
    await webhooks.generations.track("replicate", id, { metadata: { late: true } });
    expect((await webhooks.generations.get("replicate", id))!.status).toBe("processing");
    await send(webhooks, replicateDelivery("succeeded", { id }));
    expect(events.map((e) => e.metadata)).toEqual([undefined, { late: true }]);
  });

  test("wait() resolves with the generation once a delivery ends it, and at once when it has ended", async () => {
    const webhooks = webhooksWith(stores());
    const id = randomUUID();
    await webhooks.generations.track("replicate", id, { metadata: { userId: "u_2" } });
    let resolved = false;
    const waiting = webhooks.generations.wait("replicate", id, { timeoutMs: 5000 }).finally(() => (resolved = true));
    await send(webhooks, replicateDelivery("processing", { id }));
    await sleep(20);
    expect(resolved).toBe(false);
    await send(webhooks, replicateDelivery("failed", { id }));
    await expect(waiting).resolves.toEqual(expect.objectContaining({ status: "failed", metadata: { userId: "u_2" } }));

    const started = Date.now();
    await expect(webhooks.generations.wait("replicate", id)).resolves.toEqual(expect.objectContaining({ status: "failed" }));
    expect(Date.now() - started).toBeLessThan(50);
  });

  test("wait() rejects on timeout, on an aborted signal, and for a generation never tracked", async () => {
    const webhooks = webhooksWith(stores());
    const id = randomUUID();
    await webhooks.generations.track("replicate", id);

    const started = Date.now();
    const timedOut = webhooks.generations.wait("replicate", id, { timeoutMs: 50 });
    await expect(timedOut).rejects.toThrow(`generation replicate:${id} has not ended within 50 ms`);
    await expect(timedOut).rejects.toMatchObject({ name: "GenerationWaitError", reason: "timeout" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);

    const controller = new AbortController();
    const aborted = webhooks.generations.wait("replicate", id, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error("the user left")), 20);
    await expect(aborted).rejects.toMatchObject({ reason: "aborted", cause: new Error("the user left") });
    await expect(webhooks.generations.wait("replicate", id, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(GenerationWaitError);

    await expect(webhooks.generations.wait("replicate", randomUUID())).rejects.toMatchObject({ reason: "untracked" });
  });
});

test("track() checks its arguments: a configured provider, an id, metadata a JSON object within 16 KiB", async () => {
  const webhooks = webhooksWith();
  await expect(webhooks.generations.track("midjourney", "x")).rejects.toThrow('no provider "midjourney" is configured (replicate)');
  await expect(webhooks.generations.track("replicate", "")).rejects.toThrow("the id must be a non-empty string");
  await expect(webhooks.generations.track("replicate", "a", { metadata: [1] as never })).rejects.toThrow("metadata must be a JSON object");
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await expect(webhooks.generations.track("replicate", "a", { metadata: cyclic })).rejects.toThrow("metadata must be JSON");
  await expect(webhooks.generations.track("replicate", "a", { metadata: { big: "x".repeat(16 * 1024) } })).rejects.toThrow(
    /metadata is 16\d\d\d bytes as JSON, over the 16384 allowed/,
  );
  await expect(webhooks.generations.get("replicate", "a")).resolves.toBeUndefined();
  await expect(webhooks.generations.track("replicate", "a", { metadata: { fits: "x".repeat(16 * 1024 - 20) } })).resolves.toBeUndefined();
  const off = webhooksWith({ generations: false });
  await expect(off.generations.track("replicate", "a")).rejects.toThrow("needs a generation store; remove generations: false");
});

test("a provider without an API says so when a generation is tracked, once; tracking still works", async () => {
  const logger = capturingLogger();
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, logger });
  receivers.push(webhooks);
  await webhooks.generations.track("crazyhorse", "c1", { metadata: { a: 1 } });
  await webhooks.generations.track("crazyhorse", "c2");
  expect(logger.warnings).toEqual([
    "imagegen-webhooks: generations.track(): crazyhorse has no API to read a generation back (crazyhorse.ai documents its webhook only): a tracked crazyhorse generation whose webhook is lost is not recovered",
  ]);
  expect((await webhooks.generations.get("crazyhorse", "c1"))!.metadata).toEqual({ a: 1 });
});

test("a tracked Replicate prediction that never gets a webhook is read back after afterMs: reconciled events with its metadata", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeReplicate((asked) => replicateDelivery("succeeded", { id: asked }));
  const webhooks = webhooksWith({
    providers: { replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl: api.url } },
    reconcile: { afterMs: 150, everyMs: 10 },
  });
  const events = recording(webhooks);
  await webhooks.generations.track("replicate", id, { metadata: { userId: "u_3" } });
  const tracked = Date.now();
  const ended = await webhooks.generations.wait("replicate", id, { timeoutMs: 5000 });
  expect(Date.now() - tracked).toBeGreaterThanOrEqual(140);
  expect(api.requests).toEqual([`/v1/predictions/${id}`]);
  expect(ended).toEqual(expect.objectContaining({ status: "completed", origin: "reconciled", metadata: { userId: "u_3" } }));
  expect(ended.images).toHaveLength(4);
  expect(events.map((e) => [e.origin, e.generation.status, e.metadata])).toEqual([["reconciled", "completed", { userId: "u_3" }]]);
});

/**
 * A fake of fal.ai's queue API on loopback: `GET /<app>/requests/<id>/status` answers the queue's
 * status, then `GET /<app>/requests/<id>` the model's output; every request recorded with its
 * Authorization header.
 */
async function fakeFalQueue(status: string): Promise<{ url: string; requests: { path: string; authorization?: string }[] }> {
  const requests: { path: string; authorization?: string }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    requests.push({ path, ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }) });
    const found = /^\/(.+)\/requests\/([^/]+)(\/status)?$/.exec(path);
    if (!found) {
      res.writeHead(404).end();
      return;
    }
    const [, , id, asksStatus] = found;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify(
        asksStatus
          ? { status, request_id: id }
          : {
              images: [{ url: `https://v3.fal.media/files/example/${id}.png`, content_type: "image/png", width: 1024, height: 1024 }],
              seed: 42,
              prompt: "a lighthouse at dusk",
            },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const FAL_KEY = "fal-test-key-id:fal-test-key-secret";

function falWebhooks(apiBaseUrl: string, afterMs = 150): Webhooks {
  return webhooksWith({
    providers: { fal: { userId: "u_fal", jwks: ed25519TestKeys().jwks, apiKey: FAL_KEY, apiBaseUrl } },
    reconcile: { afterMs, everyMs: 10 },
  });
}

test("a tracked fal.ai request that never gets a webhook is read back from the queue API after afterMs, with the app it was tracked with", async () => {
  const id = randomUUID();
  const api = await fakeFalQueue("COMPLETED");
  const webhooks = falWebhooks(api.url);
  const events = recording(webhooks);
  await webhooks.generations.track("fal", id, { app: "fal-ai/flux/dev", metadata: { userId: "u_3", chatMessage: 7 } });
  const tracked = Date.now();
  const ended = await webhooks.generations.wait("fal", id, { timeoutMs: 5000 });
  expect(Date.now() - tracked).toBeGreaterThanOrEqual(140);
  expect(api.requests).toEqual([
    { path: `/fal-ai/flux/dev/requests/${id}/status`, authorization: `Key ${FAL_KEY}` },
    { path: `/fal-ai/flux/dev/requests/${id}`, authorization: `Key ${FAL_KEY}` },
  ]);
  expect(ended).toEqual(
    expect.objectContaining({
      provider: "fal",
      id,
      status: "completed",
      origin: "reconciled",
      metadata: { userId: "u_3", chatMessage: 7 },
    }),
  );
  expect(ended.images.map((image) => image.url)).toEqual([`https://v3.fal.media/files/example/${id}.png`]);
  expect(events.map((e) => [e.name, e.origin, e.generation.status, e.metadata])).toEqual([
    ["fal.ok", "reconciled", "completed", { userId: "u_3", chatMessage: 7 }],
  ]);
  expect(events[0]!.generation.prompt).toBe("a lighthouse at dusk");
});

test("a tracked fal.ai request still in the queue is read back again afterMs later, and nothing fires until it has ended", async () => {
  const id = randomUUID();
  const api = await fakeFalQueue("IN_PROGRESS");
  const webhooks = falWebhooks(api.url, 40);
  const events = recording(webhooks);
  await webhooks.generations.track("fal", id, { app: "fal-ai/flux/schnell" });
  await until(() => api.requests.length >= 2);
  expect(api.requests.map((request) => request.path)).toEqual([
    `/fal-ai/flux/schnell/requests/${id}/status`,
    `/fal-ai/flux/schnell/requests/${id}/status`,
  ]);
  expect(events).toEqual([]);
  expect(await webhooks.generations.get("fal", id)).toEqual(expect.objectContaining({ status: "queued", origin: undefined }));
});

test("fal.ai: tracking without app is refused, saying why; an untracked request cannot be read back, and reconcile() says so", async () => {
  const api = await fakeFalQueue("COMPLETED");
  const webhooks = falWebhooks(api.url);
  await expect(webhooks.generations.track("fal", "req-1", { metadata: { a: 1 } })).rejects.toThrow(
    `imagegen-webhooks: generations.track("fal", id) needs { app }: fal's read-back needs the request's app, its model id (e.g. "fal-ai/flux/dev"), which fal.ai's webhook does not carry`,
  );
  await expect(webhooks.generations.get("fal", "req-1")).resolves.toBeUndefined();
  // Never tracked: the read-back has no app to ask under.
  await expect(webhooks.reconcile("fal", "req-2")).rejects.toThrow(
    `fal.ai's read-back needs the request's app (e.g. "fal-ai/flux/dev"), which its webhook does not carry: track the generation with generations.track("fal", id, { app })`,
  );
  expect(api.requests).toEqual([]);
  // Tracked with it, reconcile() finds the app in the store.
  await webhooks.generations.track("fal", "req-3", { app: "fal-ai/flux/dev" });
  await expect(webhooks.reconcile("fal", "req-3")).resolves.toEqual(expect.objectContaining({ status: "completed" }));
});

test("a tracked generation whose webhooks stop short of the final one is read back afterMs after the last", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeReplicate((asked) => replicateDelivery("failed", { id: asked }));
  const webhooks = webhooksWith({
    providers: { replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl: api.url } },
    reconcile: { afterMs: 60, everyMs: 10 },
  });
  const events = recording(webhooks);
  await webhooks.generations.track("replicate", id, { metadata: { n: 1 } });
  await send(webhooks, replicateDelivery("processing", { id }));
  await webhooks.generations.wait("replicate", id, { timeoutMs: 5000 });
  expect(events.map((e) => [e.origin, e.generation.status, e.metadata])).toEqual([
    ["webhook", "processing", { n: 1 }],
    ["reconciled", "failed", { n: 1 }],
  ]);
});

test("track()'s app reaches the provider's read-back (fetchGeneration's api.app), on its own and through reconcile()", async () => {
  const asked: (string | undefined)[] = [];
  const api = await fakeReplicate((id) => replicateDelivery("succeeded", { id }));
  const modelled = defineProvider({
    name: "modelled",
    schema: { type: "object", required: ["id", "status"], properties: { id: { type: "string" }, status: { type: "string" } } } as const,
    authentication: ["token"],
    eventName: (payload) => payload.status,
    idempotencyKey: (payload) => `${payload.id}:${payload.status}`,
    normalize: (payload, { receivedAt }) => ({
      id: payload.id,
      status: payload.status === "done" ? "completed" : "processing",
      images: [],
      params: {},
      createdAt: receivedAt.toISOString(),
    }),
    fetchGeneration: (id, providerApi) => {
      asked.push(providerApi.app);
      return Promise.resolve({ id, status: "done" });
    },
    apiBaseUrl: api.url,
  });
  const webhooks = createWebhooks({
    providers: { modelled: { secret: SECRET, apiToken: "t" }, replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl: api.url } },
    customProviders: [modelled],
    reconcile: { afterMs: 30, everyMs: 10 },
  } as Parameters<typeof createWebhooks>[0]);
  receivers.push(webhooks);
  await webhooks.generations.track("modelled", "m1", { app: "fal-ai/flux/dev", metadata: { k: 1 } });
  await expect(webhooks.generations.wait("modelled", "m1", { timeoutMs: 5000 })).resolves.toEqual(
    expect.objectContaining({ status: "completed", origin: "reconciled" }),
  );
  await webhooks.generations.track("modelled", "m2", { app: "fal-ai/flux/schnell" });
  await expect(webhooks.reconcile("modelled", "m2")).resolves.toEqual(expect.objectContaining({ outcome: "emitted" }));
  expect(asked.slice(0, 2)).toEqual(["fal-ai/flux/dev", "fal-ai/flux/schnell"]);

  // Replicate ignores the app it is given, and is recovered all the same.
  const id = randomUUID().slice(0, 13);
  await webhooks.generations.track("replicate", id, { app: "black-forest-labs/flux-schnell" });
  await expect(webhooks.generations.wait("replicate", id, { timeoutMs: 5000 })).resolves.toEqual(
    expect.objectContaining({ status: "completed" }),
  );
});

test("a provider of your own declares that its read-back needs an app (appForReadBack): tracking without one is refused", async () => {
  const definition = {
    name: "appful",
    schema: { type: "object", required: ["id"], properties: { id: { type: "string" } } } as const,
    authentication: ["token" as const],
    eventName: () => "done",
    idempotencyKey: (payload: { id: string }) => payload.id,
    normalize: (payload: { id: string }, { receivedAt }: { receivedAt: Date }) => ({
      id: payload.id,
      status: "completed" as const,
      images: [],
      params: {},
      createdAt: receivedAt.toISOString(),
    }),
    appForReadBack: 'the model id (e.g. "acme/sdxl")',
  };
  expect(() => defineProvider(definition)).toThrow(
    "appForReadBack says what fetchGeneration needs in api.app, for a provider with fetchGeneration",
  );
  const appful = defineProvider({ ...definition, fetchGeneration: (id) => Promise.resolve({ id }) });
  const webhooks = createWebhooks({
    providers: { appful: { secret: SECRET } },
    customProviders: [appful],
  } as Parameters<typeof createWebhooks>[0]);
  receivers.push(webhooks);
  await expect(webhooks.generations.track("appful", "a1")).rejects.toThrow(
    `generations.track("appful", id) needs { app }: appful's read-back needs the model id (e.g. "acme/sdxl")`,
  );
  await expect(webhooks.generations.track("appful", "a1", { app: "acme/sdxl" })).resolves.toBeUndefined();
});

test("track, get and wait need neither reconcile nor a credential", async () => {
  const webhooks = webhooksWith();
  const id = randomUUID();
  await webhooks.generations.track("replicate", id, { metadata: { x: 1 } });
  const waiting = webhooks.generations.wait("replicate", id);
  await send(webhooks, replicateDelivery("succeeded", { id }));
  await expect(waiting).resolves.toEqual(expect.objectContaining({ status: "completed", metadata: { x: 1 } }));
});

describe("across instances on Redis", () => {
  test("metadata tracked on instance A is on the events instance B handles, and B's delivery resolves A's wait", async () => {
    const keyPrefix = `gen-${randomUUID()}:`;
    const a = webhooksWith({ dedupe: redisStore(redisClient(), { keyPrefix }) });
    const b = webhooksWith({ dedupe: redisStore(redisClient(), { keyPrefix }) });
    const onB = recording(b);
    const id = randomUUID();
    await a.generations.track("replicate", id, { metadata: { userId: "u_4" } });
    const waiting = a.generations.wait("replicate", id, { timeoutMs: 5000 });
    await send(b, replicateDelivery("processing", { id }));
    await send(b, replicateDelivery("succeeded", { id }));
    await expect(waiting).resolves.toEqual(expect.objectContaining({ status: "completed", metadata: { userId: "u_4" } }));
    expect(onB.map((e) => e.metadata)).toEqual([{ userId: "u_4" }, { userId: "u_4" }]);
    expect(await b.generations.get("replicate", id)).toEqual(await a.generations.get("replicate", id));
  });

  test("metadata is on the events an inbox worker handles (the inbox's Redis)", async () => {
    const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
    clients.push(connection);
    const queueName = `generations-${randomUUID()}`;
    const edge = webhooksWith({ inbox: bullmqInbox({ connection, queueName, backoff: 10 }) });
    const workerSide = webhooksWith({ inbox: bullmqInbox({ connection, queueName, backoff: 10 }) });
    const events = recording(workerSide);
    await workerSide.startWorker();
    const id = randomUUID();
    await edge.generations.track("replicate", id, { metadata: { orderId: "o_5" } });
    const waiting = edge.generations.wait("replicate", id, { timeoutMs: 5000 });
    await send(edge, replicateDelivery("succeeded", { id }));
    await expect(waiting).resolves.toEqual(expect.objectContaining({ status: "completed", metadata: { orderId: "o_5" } }));
    await until(() => events.length === 1);
    expect(events[0]!.metadata).toEqual({ orderId: "o_5" });
  });
});

describe("10,000 waits that settle leave nothing behind", () => {
  const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;

  test("in memory: no waiter, no timer, no abort listener", async () => {
    const store = new MemoryGenerations();
    const webhooks = webhooksWith({ generations: store });
    const timersBefore = activeTimers();
    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    const controllers = ids.map(() => new AbortController());
    for (const id of ids) await webhooks.generations.track("replicate", id);
    // A third end, a third time out, a third are aborted, each with its own signal as a request has.
    const waits = ids.map((id, i) =>
      webhooks.generations.wait("replicate", id, { timeoutMs: i % 3 === 1 ? 3000 : 60_000, signal: controllers[i]!.signal }).then(
        () => "ended",
        (err: GenerationWaitError) => err.reason,
      ),
    );
    const abortListeners = () => controllers.reduce((sum, c) => sum + getEventListeners(c.signal, "abort").length, 0);
    await sleep(0);
    expect(store.waitedFor).toBe(10_000);
    expect(abortListeners()).toBe(10_000);
    for (const [i, id] of ids.entries()) if (i % 3 === 0) await send(webhooks, replicateDelivery("succeeded", { id }));
    await until(() => store.waitedFor === 3333, 10_000);
    controllers.forEach((controller, i) => i % 3 === 2 && controller.abort());
    const outcomes = await Promise.all(waits);
    expect(outcomes.filter((o) => o === "ended")).toHaveLength(3334);
    expect(outcomes.filter((o) => o === "timeout")).toHaveLength(3333);
    expect(outcomes.filter((o) => o === "aborted")).toHaveLength(3333);
    expect(store.waitedFor).toBe(0);
    expect(abortListeners()).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  test("on Redis: one subscriber connection for them all, unsubscribed and closed after the last", async () => {
    const keyPrefix = `gen-${randomUUID()}:`;
    const observer = await ready(strictClient());
    // The store's connections by their name (its duplicate() keeps it): other test files share this
    // Redis and open and close connections of their own meanwhile.
    const name = `track-${randomUUID()}`;
    const clientsNow = async () =>
      String(await observer.client("LIST"))
        .split("\n")
        .filter((line) => line.includes(` name=${name} `)).length;
    const subscribers = async () => (await observer.pubsub("NUMSUB", `${keyPrefix}generation-ended`))[1] as number;
    const store = redisStore(await ready(strictClient(name)), { keyPrefix, commandTimeoutMs: 20_000 });
    const webhooks = webhooksWith({ dedupe: store });
    const sender = webhooksWith({ dedupe: redisStore(await ready(strictClient()), { keyPrefix }) });
    const connectionsBefore = await clientsNow();
    expect(connectionsBefore).toBe(1); // the store's own client, found by its name
    const timersBefore = activeTimers();
    const ids = Array.from({ length: 10_000 }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 500)
      await Promise.all(ids.slice(i, i + 500).map((id) => webhooks.generations.track("replicate", id)));
    const controllers = ids.map(() => new AbortController());
    const waits = ids.map((id, i) =>
      webhooks.generations.wait("replicate", id, { timeoutMs: i % 3 === 1 ? 8000 : 60_000, signal: controllers[i]!.signal }).then(
        () => "ended",
        (err: GenerationWaitError) => err.reason,
      ),
    );
    const abortListeners = () => controllers.reduce((sum, c) => sum + getEventListeners(c.signal, "abort").length, 0);
    await until(async () => store.waitedFor === 10_000 && (await subscribers()) === 1, 10_000);
    expect(await clientsNow()).toBe(connectionsBefore + 1);
    // The ends come through another instance: only the channel can tell this one.
    for (const [i, id] of ids.entries()) if (i % 3 === 0) await send(sender, replicateDelivery("succeeded", { id }));
    await until(() => store.waitedFor === 3333, 20_000);
    controllers.forEach((controller, i) => i % 3 === 2 && controller.abort());
    const outcomes = await Promise.all(waits);
    expect(outcomes.filter((o) => o === "ended")).toHaveLength(3334);
    expect(outcomes.filter((o) => o === "timeout")).toHaveLength(3333);
    expect(outcomes.filter((o) => o === "aborted")).toHaveLength(3333);
    expect(store.waitedFor).toBe(0);
    await until(async () => (await subscribers()) === 0 && (await clientsNow()) === connectionsBefore);
    expect(abortListeners()).toBe(0);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);

    // The next wait opens a connection again.
    const id = randomUUID();
    await webhooks.generations.track("replicate", id);
    const again = webhooks.generations.wait("replicate", id, { timeoutMs: 5000 });
    await until(async () => (await subscribers()) === 1);
    await send(sender, replicateDelivery("succeeded", { id }));
    await expect(again).resolves.toEqual(expect.objectContaining({ status: "completed" }));
    await until(async () => (await subscribers()) === 0);
  });
});
