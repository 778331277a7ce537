// wait() across processes: this process (B) tracks a generation and waits for it; its webhooks are
// delivered to another instance (A), a process of its own on the same Redis. B's wait resolves from
// A's handling through Redis pub/sub, without polling, within 100 ms of A handling the delivery.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createWebhooks, type Webhooks } from "imagegen-webhooks";
import { redisStore } from "imagegen-webhooks/redis";
import { replicateDelivery } from "imagegen-webhooks/testing";
import { getJson, killHard, post, startProcess, type ServerProcess } from "../helpers/processes";
import { suiteRedisUrl } from "../helpers/redis-server";

jest.setTimeout(60_000);

const SECRET = "generations-across-processes-secret";
const PATH = `/webhooks/replicate?token=${SECRET}`;
const KEY_PREFIX = `gen-processes-${randomUUID()}:`;

let instanceA: ServerProcess;
let redis: Redis;
let webhooksB: Webhooks;

beforeAll(async () => {
  instanceA = await startProcess("generations-instance.ts", { REDIS_URL: suiteRedisUrl(), WEBHOOK_SECRET: SECRET, KEY_PREFIX });
  redis = new Redis(suiteRedisUrl(), { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once("ready", resolve));
  webhooksB = createWebhooks({ providers: { replicate: { secret: SECRET } }, dedupe: redisStore(redis, { keyPrefix: KEY_PREFIX }) });
});

afterAll(async () => {
  await webhooksB.close();
  redis.disconnect();
  await killHard(instanceA);
});

test.each([1, 2, 3])("a delivery to process A resolves process B's wait within 100 ms of its handling (run %i)", async () => {
  const id = randomUUID();
  await webhooksB.generations.track("replicate", id, { metadata: { userId: "u_b" } });
  let resolvedAt = 0;
  const waiting = webhooksB.generations.wait("replicate", id, { timeoutMs: 10_000 }).then((generation) => {
    resolvedAt = Date.now();
    return generation;
  });
  // Let the wait subscribe before the delivery, as it has when a generation takes seconds.
  await new Promise((resolve) => setTimeout(resolve, 100));

  expect(await post(instanceA.port, PATH, JSON.stringify(replicateDelivery("processing", { id })))).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(resolvedAt).toBe(0);
  const done = replicateDelivery("succeeded", { id });
  expect(await post(instanceA.port, PATH, JSON.stringify(done))).toBe(200);

  const generation = await waiting;
  const handled = await getJson<Record<string, { at: number; metadata: unknown }>>(instanceA.port, "/handled");
  expect(handled[id]?.metadata).toEqual({ userId: "u_b" });
  expect(generation).toEqual(expect.objectContaining({ status: "completed", origin: "webhook", metadata: { userId: "u_b" } }));
  expect(generation.images.map((image) => image.url)).toEqual(done.output);
  expect(resolvedAt - handled[id]!.at).toBeLessThan(100);
});
