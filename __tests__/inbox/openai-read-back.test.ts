// OpenAI with the inbox: the edge stores the thin event and answers at once, without reading
// anything back; the worker reads the response back from (a local fake of) OpenAI's API before
// generation.completed fires, and an API that fails makes the attempt fail, for the inbox to retry.
// Against the suite's real redis-server.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";
import { createWebhooks, type AnyWebhookEvent, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { buildDelivery, signDelivery } from "imagegen-webhooks/testing";
import { suiteRedisUrl } from "../helpers/redis-server";

const SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const connections: Redis[] = [];
const receivers: Webhooks[] = [];
let server: Server;
let origin: string;
/** How the fake API answers, request by request: a status to fail with, else the response with its image. */
const answers: number[] = [];
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((req, res: ServerResponse) => {
    const id = decodeURIComponent((req.url ?? "").split("/").pop() ?? "");
    requested.push(req.url ?? "");
    const status = answers.shift();
    if (status !== undefined) return void res.writeHead(status, { "content-type": "application/json" }).end('{"error":{"message":"x"}}');
    const body = {
      id,
      object: "response",
      status: "completed",
      output: [{ type: "image_generation_call", id: "ig_1", result: PNG_BASE64 }],
    };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
});

afterAll(async () => {
  for (const connection of connections) connection.disconnect();
  await new Promise((resolve) => server.close(resolve));
});

function receiver(): Webhooks {
  const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null, disconnectTimeout: 50 });
  connection.on("error", () => {});
  connections.push(connection);
  const webhooks = createWebhooks({
    providers: { openai: { signature: { secret: SIGNING_SECRET }, apiKey: "sk-inbox", apiBaseUrl: origin } },
    inbox: bullmqInbox({ connection, queueName: `openai-read-back-${randomUUID()}`, attempts: 3, backoff: 10, lockDurationMs: 1000 }),
  });
  receivers.push(webhooks);
  return webhooks;
}

function send(webhooks: Webhooks, body: object) {
  const rawBody = JSON.stringify(body);
  return webhooks.receive({
    provider: "openai",
    headers: { "content-type": "application/json", ...signDelivery(rawBody, { secret: SIGNING_SECRET }) },
    rawBody,
  });
}

async function until<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("the edge stores the event unread; the worker reads the response back, retrying an API that failed, then fires with its image", async () => {
  const webhooks = receiver();
  const completed: AnyWebhookEvent[] = [];
  webhooks.on("generation.completed", (event) => void completed.push(event));
  const body = buildDelivery("openai");
  requested.length = 0;
  answers.push(500, 429);

  expect((await send(webhooks, body)).status).toBe(200);
  // Answered once stored: nothing read back at the edge.
  expect(requested).toEqual([]);
  await webhooks.startWorker({ concurrency: 1 });
  const event = await until(() => completed[0]);
  // Two attempts failed on the API's answers, the third read it back; nothing fired before.
  expect(requested).toEqual(Array.from({ length: 3 }, () => `/v1/responses/${body.data.id}`));
  expect(completed).toHaveLength(1);
  expect(event.attempt).toBe(3);
  expect(event.generation.id).toBe(body.data.id);
  expect(event.generation.images).toEqual([
    expect.objectContaining({ id: "ig_1", contentType: "image/png", bytes: expect.any(Uint8Array) }),
  ]);
});
