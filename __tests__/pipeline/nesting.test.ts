// Step 5, the JSON's shape before anything walks it: a body nested deeper than MAX_JSON_DEPTH (64)
// is a 400 json.too-deep in every entry and mode, never a 500 (a stack overflow while making its
// key) or a 503 (while storing it) that a provider would retry forever.
import { randomBytes, randomUUID } from "node:crypto";
import express from "express";
import { Redis } from "ioredis";
import request from "supertest";
import { createWebhooks, type Webhooks, type WebhooksOptions } from "../../lib/entries/index";
import { bullmqInbox } from "../../lib/entries/bullmq";
import { replicateExample } from "../../lib/entries/testing";
import { createWebhooks as createWebWebhooks } from "../../lib/entries/web";
import { suiteRedisUrl } from "../helpers/redis-server";

const TOKEN = randomBytes(16).toString("hex");
const DEEP_TYPE = "urn:imagegen-webhooks:problem:json.too-deep";

/** A Replicate delivery (token-authenticated, so that its key is made from the body) whose `input` holds arrays nested so that the body's deepest value is `levels` deep. */
function replicateNested(levels: number): { rawBody: string; headers: Record<string, string> } {
  // The body and its `input` are two levels; the arrays make the rest.
  const arrays = levels - 2;
  const body = JSON.stringify({ ...replicateExample, id: `deep-${randomUUID()}`, input: { deep: 0 } });
  const rawBody = body.replace('"deep":0', `"deep":${"[".repeat(arrays)}${"]".repeat(arrays)}`);
  return { rawBody, headers: { "content-type": "application/json", "x-webhook-token": TOKEN } };
}

const receivers: Webhooks[] = [];
const connections: Redis[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
});
afterAll(() => {
  for (const connection of connections) connection.disconnect();
});

function receiver(options: Partial<WebhooksOptions> = {}, create = createWebhooks) {
  const webhooks = create({ providers: { replicate: { secret: TOKEN } }, ...options });
  receivers.push(webhooks);
  const seen = { events: 0, invalid: [] as string[], errors: 0 };
  webhooks.on("*", () => void (seen.events += 1));
  webhooks.on("invalid", (invalid) => void seen.invalid.push(invalid.reason));
  webhooks.on("error", () => void (seen.errors += 1));
  return { webhooks, seen };
}

type Entry = (webhooks: Webhooks, body: { rawBody: string; headers: Record<string, string> }) => Promise<{ status: number; type?: string }>;

const ENTRIES: [string, Entry][] = [
  [
    "receive()",
    async (webhooks, { rawBody, headers }) => {
      const answer = await webhooks.receive({ provider: "replicate", headers, rawBody });
      return { status: answer.status, type: answer.status === 200 ? undefined : (JSON.parse(answer.body) as { type: string }).type };
    },
  ],
  [
    "the middleware",
    async (webhooks, { rawBody, headers }) => {
      const app = express();
      app.use("/webhooks", webhooks.middleware());
      const res = await request(app).post("/webhooks/replicate").set(headers).send(rawBody);
      return { status: res.status, type: res.status === 200 ? undefined : (JSON.parse(res.text) as { type: string }).type };
    },
  ],
  [
    "fetch()",
    async (webhooks, { rawBody, headers }) => {
      const answer = await webhooks.fetch(new Request("https://app.example/replicate", { method: "POST", headers, body: rawBody }));
      return { status: answer.status, type: answer.status === 200 ? undefined : ((await answer.json()) as { type: string }).type };
    },
  ],
];

describe.each(ENTRIES)("%s, memory mode", (_entry, send) => {
  test("a Replicate delivery nested 40,000 levels is a 400 json.too-deep, only `invalid` emitted", async () => {
    const { webhooks, seen } = receiver();
    expect(await send(webhooks, replicateNested(40_000))).toEqual({ status: 400, type: DEEP_TYPE });
    expect(seen).toEqual({ events: 0, invalid: ["json.too-deep"], errors: 0 });
  });

  test("64 levels are accepted, 65 refused", async () => {
    const { webhooks, seen } = receiver();
    expect(await send(webhooks, replicateNested(64))).toEqual({ status: 200 });
    expect(await send(webhooks, replicateNested(65))).toEqual({ status: 400, type: DEEP_TYPE });
    expect(seen).toEqual({ events: 1, invalid: ["json.too-deep"], errors: 0 });
  });
});

test("the middleware after express.json(), whose parsed body is written back as JSON: 40,000 levels are a 400 json.too-deep", async () => {
  const { webhooks, seen } = receiver();
  const app = express();
  app.use(express.json());
  app.use("/webhooks", webhooks.middleware());
  const { rawBody, headers } = replicateNested(40_000);
  const res = await request(app).post("/webhooks/replicate").set(headers).send(rawBody);
  expect({ status: res.status, type: (JSON.parse(res.text) as { type: string }).type }).toEqual({ status: 400, type: DEEP_TYPE });
  expect(seen.invalid).toEqual(["json.too-deep"]);
});

test("the web entry's fetch(): 40,000 levels are a 400 json.too-deep", async () => {
  const { webhooks, seen } = receiver({}, createWebWebhooks);
  const [, send] = ENTRIES[2] as [string, Entry];
  expect(await send(webhooks, replicateNested(40_000))).toEqual({ status: 400, type: DEEP_TYPE });
  expect(seen.invalid).toEqual(["json.too-deep"]);
});

test("inbox mode: a Replicate delivery nested 30,000 levels is a 400 json.too-deep, not a 503 to retry forever, and nothing is stored", async () => {
  const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
  connections.push(connection);
  const inbox = bullmqInbox({ connection, queueName: `nesting-${randomUUID()}` });
  const { webhooks, seen } = receiver({ inbox });
  for (const [, send] of ENTRIES) {
    expect(await send(webhooks, replicateNested(30_000))).toEqual({ status: 400, type: DEEP_TYPE });
  }
  expect(await webhooks.deliveries.list()).toEqual([]);
  expect(seen.invalid).toEqual(["json.too-deep", "json.too-deep", "json.too-deep"]);
  expect(await send0(webhooks)).toBe(200);
  expect(await webhooks.deliveries.list()).toHaveLength(1);
});

/** A delivery of ordinary depth, stored: the inbox was reachable all along. */
async function send0(webhooks: Webhooks): Promise<number> {
  const { rawBody, headers } = replicateNested(3);
  return (await webhooks.receive({ provider: "replicate", headers, rawBody })).status;
}
