// keepImages in the pipeline: the images are in the store before generation.completed fires,
// image.failed comes first for one that is not, a repeated image is downloaded once; in inbox mode
// a transient failure is retried with the delivery's backoff and a permanent one is not.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import {
  createWebhooks,
  directoryImageStore,
  type AnyWebhookEvent,
  type ImageFailed,
  type Webhooks,
  type WebhooksOptions,
} from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { allImagesDelivery } from "imagegen-webhooks/testing";
import { startImageServer, type ImageServer } from "../helpers/image-server";
import { suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "keep-images-secret";
let server: ImageServer;
let dir: string;
const receivers: Webhooks[] = [];
const connections: Redis[] = [];

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(async () => {
  await server.close();
  for (const connection of connections) connection.disconnect();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kept-pipeline-"));
  server.requests.length = 0;
});
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  await rm(dir, { recursive: true, force: true });
});

function receiver(options: Partial<WebhooksOptions> = {}) {
  const webhooks = createWebhooks({
    providers: { "all-images": { secret: SECRET } },
    keepImages: { store: directoryImageStore(dir), allowedHosts: [server.host], timeoutMs: 2000 },
    ...options,
  });
  receivers.push(webhooks);
  const fired: string[] = [];
  const completed: AnyWebhookEvent[] = [];
  const failed: ImageFailed[] = [];
  webhooks.on("image.failed", (failure) => {
    fired.push("image.failed");
    failed.push(failure);
  });
  webhooks.on("generation.completed", (event) => {
    fired.push(`generation.completed#${event.attempt}`);
    // Kept before the host app hears of it: the file is there now.
    for (const image of event.generation.images) if (image.keptUrl) expect(existsSync(fileURLToPath(image.keptUrl))).toBe(true);
    completed.push(event);
  });
  webhooks.on("generation.progress", () => void fired.push("generation.progress"));
  return { webhooks, fired, completed, failed };
}

function delivery(type: string, id: string, paths: string[]) {
  const body = allImagesDelivery(type, { id: randomUUID(), data: { id } });
  body.data.images = paths.map((path, i) => ({ id: `img_${i}`, url: `${server.origin}${path}` }));
  return JSON.stringify(body);
}

function send(webhooks: Webhooks, rawBody: string) {
  return webhooks.receive({ provider: "all-images", headers: { "content-type": "application/json" }, query: { token: SECRET }, rawBody });
}

test("in process: kept before generation.completed, image.failed first for the one not kept, a repeated image downloaded once", async () => {
  const { webhooks, fired, completed, failed } = receiver();
  const generation = randomUUID();
  expect((await send(webhooks, delivery("print.progress", generation, ["/png"]))).status).toBe(200);
  const done = delivery("print.completed", generation, ["/png", "/status/404"]);
  expect((await send(webhooks, done)).status).toBe(200);
  expect(fired).toEqual(["generation.progress", "image.failed", "generation.completed#1"]);
  expect(server.requests.filter((path) => path === "/png")).toHaveLength(1);
  const [kept, missing] = completed[0]!.generation.images;
  expect(kept!.kept).toMatchObject({ size: server.png.length, contentType: "image/png" });
  expect(missing!.keptUrl).toBeUndefined();
  expect(failed).toEqual([
    { event: completed[0], index: 1, url: `${server.origin}/status/404`, reason: "http-status", message: expect.any(String) },
  ]);
  // A duplicate is dropped before any download; the same delivery id is the same key.
  expect((await send(webhooks, done)).status).toBe(200);
  expect(server.requests.filter((path) => path === "/png")).toHaveLength(1);
});

test("without images to keep, the listeners run synchronously, as without keepImages", async () => {
  const { webhooks, fired } = receiver();
  const answer = send(webhooks, delivery("print.completed", randomUUID(), []));
  // Fired before the first await: no promise was added on the way.
  expect(fired).toEqual(["generation.completed#1"]);
  expect((await answer).status).toBe(200);
});

describe("inbox mode", () => {
  function inboxReceiver() {
    const connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
    connections.push(connection);
    const inbox = bullmqInbox({ connection, queueName: `keep-images-${randomUUID()}`, attempts: 3, backoff: 10, lockDurationMs: 2000 });
    return receiver({ inbox });
  }

  async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error("timed out waiting");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test("a transient failure (503) fails the attempt and is retried; the event fires once, with the image kept", async () => {
    const { webhooks, fired, completed } = inboxReceiver();
    await webhooks.startWorker();
    server.flakyFailures = 1;
    expect((await send(webhooks, delivery("print.completed", randomUUID(), ["/flaky"]))).status).toBe(200);
    await until(() => completed.length > 0);
    expect(fired).toEqual(["generation.completed#2"]);
    expect(server.requests).toEqual(["/flaky", "/flaky"]);
    expect(completed[0]!.generation.images[0]!.keptUrl).toBeDefined();
  });

  test("a permanent failure (404) is not retried: image.failed, then the event, on the first attempt", async () => {
    const { webhooks, fired } = inboxReceiver();
    await webhooks.startWorker();
    expect((await send(webhooks, delivery("print.completed", randomUUID(), ["/status/404"]))).status).toBe(200);
    await until(() => fired.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fired).toEqual(["image.failed", "generation.completed#1"]);
    expect(server.requests).toEqual(["/status/404"]);
  });

  test("a transient failure on the last attempt is reported, and the event still fires", async () => {
    const { webhooks, fired } = inboxReceiver();
    await webhooks.startWorker();
    server.flakyFailures = 3;
    expect((await send(webhooks, delivery("print.completed", randomUUID(), ["/flaky"]))).status).toBe(200);
    await until(() => fired.length === 2);
    expect(fired).toEqual(["image.failed", "generation.completed#3"]);
    expect(server.requests).toEqual(["/flaky", "/flaky", "/flaky"]);
  });
});
