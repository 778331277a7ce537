// Missed final webhooks recovered from the provider's API: a generation still open `afterMs` after
// its last delivery is read back (GET /v1/predictions/{id}, GET /v1/image-generations/{id}) from a
// local fake of each API that answers as the providers document, errors included; if it has ended,
// its events fire with origin "reconciled", once.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { createWebhooks, defineProvider, type AnyWebhookEvent, type Logger, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { redisStore } from "imagegen-webhooks/redis";
import { allImagesDelivery, replicateDelivery } from "imagegen-webhooks/testing";
import { receiveOk } from "../helpers/receive";
import { suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "reconcile-test-secret";
const TOKEN = "r8_test_token";
const API_KEY = "all-images-test-key";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A provider API on loopback: answers with `handler`, and records every request. */
async function fakeApi(handler: Handler): Promise<{ url: string; requests: IncomingMessage[]; server: Server }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, server };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};

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

function capturingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  return { debug: noop, info: noop, error: noop, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ""), warnings };
}

function receiver(apiBaseUrl: string, extra: { logger?: Logger; dedupe?: ReturnType<typeof redisStore>; timeoutMs?: number } = {}) {
  const webhooks = createWebhooks({
    providers: {
      replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl },
      "all-images": { secret: SECRET, apiKey: API_KEY, apiBaseUrl },
    },
    reconcile: { afterMs: 40, everyMs: 10, timeoutMs: extra.timeoutMs ?? 2000 },
    ...(extra.logger && { logger: extra.logger }),
    ...(extra.dedupe && { dedupe: extra.dedupe }),
  });
  receivers.push(webhooks);
  const fired: [string, AnyWebhookEvent][] = [];
  for (const name of ["generation.completed", "generation.failed", "generation.stale"] as const) {
    webhooks.on(name, (event) => void fired.push([name, event as AnyWebhookEvent]));
  }
  return { webhooks, fired };
}

function send(webhooks: Webhooks, provider: string, body: unknown): Promise<void> {
  return receiveOk(webhooks, provider, body, SECRET);
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("Replicate: a prediction whose final webhook never came completes from GET /v1/predictions/{id}, once, marked reconciled", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeApi((req, res) => json(res, 200, replicateDelivery("succeeded", { id })));
  const { webhooks, fired } = receiver(api.url);
  await send(webhooks, "replicate", replicateDelivery("processing", { id }));

  await until(() => fired.length === 1);
  const [name, event] = fired[0]!;
  expect(name).toBe("generation.completed");
  expect(event.origin).toBe("reconciled");
  expect(event.generation).toEqual(expect.objectContaining({ id, status: "completed", previousStatus: "processing" }));
  expect(event.generation.images).toHaveLength(4);
  expect(api.requests[0]?.url).toBe(`/v1/predictions/${id}`);
  expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);

  // Once ended it is not read again, and the final webhook arriving late is stale.
  await sleep(150);
  expect(api.requests).toHaveLength(1);
  await send(webhooks, "replicate", replicateDelivery("succeeded", { id }));
  expect(fired.map(([n]) => n)).toEqual(["generation.completed", "generation.stale"]);
});

test("all-images: a generation completes from GET /v1/image-generations/{id} (the object alone, put in an envelope)", async () => {
  const gen = `gen_${randomUUID().slice(0, 8)}`;
  const done = allImagesDelivery("print.completed", { data: { id: gen } }).data;
  const api = await fakeApi((req, res) => json(res, 200, done));
  const { webhooks, fired } = receiver(api.url);
  await send(webhooks, "all-images", allImagesDelivery("print.active", { data: { id: gen } }));
  await until(() => fired.length === 1);
  expect(fired[0]?.[0]).toBe("generation.completed");
  expect(fired[0]?.[1].origin).toBe("reconciled");
  expect(fired[0]?.[1].generation.images).toHaveLength(4);
  expect(api.requests[0]?.url).toBe(`/v1/image-generations/${gen}`);
  expect(api.requests[0]?.headers["api-key"]).toBe(API_KEY);
});

test("a generation still running at the API fires nothing and is read again later", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeApi((req, res) => json(res, 200, replicateDelivery("processing", { id })));
  const { webhooks, fired } = receiver(api.url);
  await send(webhooks, "replicate", replicateDelivery("starting", { id }));
  await until(() => api.requests.length >= 2);
  expect(fired).toEqual([]);
});

test.each([
  ["401", (res: ServerResponse) => json(res, 401, { detail: "Invalid token." })],
  ["404", (res: ServerResponse) => json(res, 404, { detail: "Not found." })],
  ["500", (res: ServerResponse) => json(res, 500, { error: "internal" })],
  ["a malformed body", (res: ServerResponse) => void res.writeHead(200, { "content-type": "application/json" }).end("{not json")],
  ["a body that is not a prediction", (res: ServerResponse) => json(res, 200, { hello: "world" })],
])("the API answering %s: nothing fires, nothing is thrown, it is logged and tried again with backoff", async (_label, answer) => {
  const api = await fakeApi((req, res) => answer(res));
  const logger = capturingLogger();
  const { webhooks, fired } = receiver(api.url, { logger });
  await send(webhooks, "replicate", replicateDelivery("processing"));
  await until(() => api.requests.length >= 3);
  expect(fired).toEqual([]);
  expect(logger.warnings.some((w) => /could not read generation .* back from replicate's API/.test(w))).toBe(true);
  // Backoff: the waits between attempts grow.
  const started = Date.now();
  const count = api.requests.length;
  await sleep(100);
  expect(api.requests.length - count).toBeLessThan(Math.ceil((Date.now() - started) / 10));
});

test("a 429 with Retry-After is honoured, and a slow API times out without holding anything", async () => {
  let first = true;
  const api = await fakeApi((req, res) => {
    if (first) {
      first = false;
      return json(res, 429, { detail: "slow down" }, { "retry-after": "1" });
    }
    json(res, 200, replicateDelivery("succeeded", { id: req.url!.split("/").pop()! }));
  });
  const { webhooks, fired } = receiver(api.url);
  const id = randomUUID().slice(0, 13);
  await send(webhooks, "replicate", replicateDelivery("processing", { id }));
  await until(() => api.requests.length === 1);
  const limitedAt = Date.now();
  await until(() => fired.length === 1, 5000);
  expect(Date.now() - limitedAt).toBeGreaterThanOrEqual(900);

  const slow = await fakeApi(() => {}); // never answers
  const logger = capturingLogger();
  const timed = receiver(slow.url, { logger, timeoutMs: 100 });
  await send(timed.webhooks, "replicate", replicateDelivery("processing"));
  await until(() => logger.warnings.length > 0);
  expect(timed.fired).toEqual([]);
});

test("webhooks.reconcile(provider, id) on demand; crazyhorse documents no such API; misconfiguration says what to change", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeApi((req, res) => json(res, 200, replicateDelivery("failed", { id })));
  const { webhooks, fired } = receiver(api.url);
  await expect(webhooks.reconcile("replicate", id)).resolves.toEqual({ provider: "replicate", id, status: "failed", outcome: "emitted" });
  expect(fired.map(([n, e]) => [n, e.origin, e.generation.error])).toEqual([["generation.failed", "reconciled", "CUDA out of memory"]]);
  await expect(webhooks.reconcile("replicate", id)).resolves.toEqual(expect.objectContaining({ outcome: "known" }));

  const withCrazyhorse = createWebhooks({
    providers: { crazyhorse: { secret: SECRET }, replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl: api.url } },
  });
  receivers.push(withCrazyhorse);
  await expect(withCrazyhorse.reconcile("crazyhorse", "x")).rejects.toThrow(/crazyhorse.ai documents its webhook only/);
  expect(() => createWebhooks({ providers: { crazyhorse: { secret: SECRET, apiToken: "t" } } })).toThrow(
    /crazyhorse.ai documents its webhook only/,
  );
  // The message names the credential of a provider configured here that has an API, else which providers have one.
  expect(() => createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, reconcile: {} })).toThrow(
    "reconcile needs a provider it can read back, and crazyhorse cannot: all-images (apiKey), replicate (apiToken), leonardo (apiKey), bfl (apiKey), openai (apiKey), fal (apiKey), and ideogram (apiKey) can",
  );
  expect(() => createWebhooks({ providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: SECRET } }, reconcile: {} })).toThrow(
    /^imagegen-webhooks: reconcile needs a provider it can read back: set providers\["all-images"\]\.apiKey$/,
  );
});

test("defineProvider({ fetchGeneration }): a user's provider is recovered the same way", async () => {
  const schema = {
    type: "object",
    required: ["job", "state"],
    properties: { job: { type: "string" }, state: { type: "string" }, urls: { type: "array", items: { type: "string" } } },
  } as const;
  const pixels = defineProvider({
    name: "pixels",
    schema,
    eventName: (p) => p.state,
    idempotencyKey: (p) => `${p.job}:${p.state}`,
    normalize: (p) => ({
      id: p.job,
      status: p.state === "done" ? "completed" : "processing",
      images: (p.urls ?? []).map((url) => ({ url })),
      params: {},
      createdAt: new Date(0).toISOString(),
    }),
    fetchGeneration: async (id, api) => {
      const res = await api.fetch(`${api.baseUrl}/jobs/${id}`, { headers: { "x-key": api.credential }, signal: api.signal });
      return (await res.json()) as { job: string; state: string };
    },
  });
  const api = await fakeApi((req, res) => json(res, 200, { job: "j1", state: "done", urls: ["https://example.invalid/1.png"] }));
  const webhooks = createWebhooks({
    customProviders: [pixels],
    providers: { pixels: { secret: SECRET, apiKey: "k", apiBaseUrl: api.url } },
    reconcile: { afterMs: 20, everyMs: 10 },
  });
  receivers.push(webhooks);
  const completed: string[] = [];
  webhooks.on("generation.completed", (e) => void completed.push(`${e.generation.id}:${e.origin}`));
  await send(webhooks, "pixels", { job: "j1", state: "running" });
  await until(() => completed.length === 1);
  expect(completed).toEqual(["j1:reconciled"]);
  expect(api.requests[0]?.headers["x-key"]).toBe("k");
});

test("several instances sharing Redis: one reads each generation back (a lease), and it completes once", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeApi((req, res) => setTimeout(() => json(res, 200, replicateDelivery("succeeded", { id })), 30));
  const prefix = `reconcile-${randomUUID()}:`;
  const store = () => {
    const client = new Redis(suiteRedisUrl());
    clients.push(client);
    return redisStore(client, { keyPrefix: prefix });
  };
  const instances = [receiver(api.url, { dedupe: store() }), receiver(api.url, { dedupe: store() })];
  // Each instance hears of the generation (two deliveries of it, one each).
  await send(instances[0]!.webhooks, "replicate", replicateDelivery("starting", { id }));
  await send(instances[1]!.webhooks, "replicate", replicateDelivery("processing", { id }));
  await until(() => instances.some((i) => i.fired.length > 0));
  await sleep(200);
  expect(api.requests).toHaveLength(1);
  expect(instances.flatMap((i) => i.fired).map(([n]) => n)).toEqual(["generation.completed"]);
});

test("in inbox mode the read-back is stored like a delivery, and a worker fires it with origin reconciled", async () => {
  const id = randomUUID().slice(0, 13);
  const api = await fakeApi((req, res) => json(res, 200, replicateDelivery("succeeded", { id })));
  const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
  clients.push(connection);
  const webhooks = createWebhooks({
    providers: { replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl: api.url } },
    inbox: bullmqInbox({ connection, queueName: `reconcile-${randomUUID()}`, backoff: 10 }),
    reconcile: { afterMs: 40, everyMs: 10 },
  });
  receivers.push(webhooks);
  const completed: string[] = [];
  webhooks.on("generation.completed", (e) => void completed.push(`${e.generation.id}:${e.origin}`));
  await webhooks.startWorker();
  await send(webhooks, "replicate", replicateDelivery("processing", { id }));
  await until(() => completed.length === 1);
  expect(completed).toEqual([`${id}:reconciled`]);
  const listed = await webhooks.deliveries.list({ provider: "replicate" });
  expect(listed.map((d) => d.key)).toContain(`replicate:reconciled:${id}`);
});
