// The Redis store on a real Redis Cluster of this file's own (three primaries): two instances in
// two processes handle each delivery exactly once, as __tests__/redis-instances.test.ts proves on
// one Redis; the store's keys spread over every primary (each script takes one key, hashed by
// itself: no tag shared by all); and the inbox's workers keep a generation's order there.
import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { createWebhooks, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { redisStore } from "imagegen-webhooks/redis";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { agent, getJson, killHard, sendToAll, sleep, startProcess, type ServerProcess } from "../helpers/processes";
import { clusterClient, startRedisCluster, type RedisCluster } from "../helpers/redis-cluster";

jest.setTimeout(60_000);

const SECRET = "crazyhorse-secret-for-the-redis-cluster-test";
const PATH = `/webhooks/crazyhorse?token=${SECRET}`;

let cluster: RedisCluster;
let client: Cluster;
const running: ServerProcess[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3 });
  client = clusterClient(cluster, { forBullmq: true });
});

afterAll(async () => {
  await Promise.all(running.splice(0).map(killHard));
  agent.destroy();
  client?.disconnect();
  await cluster?.stop();
});

test("1,000 deliveries, each sent to two instances at once over the cluster, are each handled exactly once across the two", async () => {
  const nodes = cluster.nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
  const instances = await Promise.all(
    [0, 1].map(() => startProcess("redis-instance.ts", { CLUSTER_NODES: nodes, WEBHOOK_SECRET: SECRET })),
  );
  running.push(...instances);
  const payloads = Array.from({ length: 1000 }, () => crazyhorseDelivery({ state: "DONE" }));
  const ids = payloads.map((p) => `${p.code}:done`);

  const tally = await sendToAll(
    instances.map((instance) => instance.port),
    PATH,
    payloads.map((p) => JSON.stringify(p)),
  );
  expect(tally.delivered).toBe(1000);

  const lists = await Promise.all(instances.map((instance) => getJson<string[]>(instance.port, "/handled")));
  const counts = new Map<string, number>();
  for (const id of lists.flat()) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  // Both instances handled some: the claims raced across processes, and one won each time.
  for (const list of lists) expect(list.length).toBeGreaterThan(0);
});

test("the store's keys are spread over every primary: each key hashes by itself, under no tag shared by all", async () => {
  // A fixed prefix on a cluster of its own: the same keys, so the same spread, on every run.
  const prefix = "spread:";
  const store = redisStore(client, { keyPrefix: prefix });
  for (let i = 0; i < 60; i++) {
    expect(await store.claim(`crazyhorse:${i}:done`)).toBe("claimed");
    await store.complete(`crazyhorse:${i}:done`);
    expect((await store.advance(`generation-${i}`, "completed", 1, `crazyhorse:${i}:done`)).moved).toBe(true);
    // A lease that outlives the test: a shorter one could run out before the keys are counted.
    expect(await store.lease(`generation-${i}`, 600_000)).toBe(true);
  }
  const perPrimary = await Promise.all(
    (await cluster.primaries()).map(async ({ port }) => {
      const node = cluster.direct(port);
      const keys = await node.keys(`${prefix}*`);
      node.disconnect();
      return keys.length;
    }),
  );
  expect(perPrimary.reduce((a, b) => a + b, 0)).toBe(180);
  for (const count of perPrimary) expect(count).toBeGreaterThan(20);
});

test("the inbox's workers keep generations in order on the cluster: a processing stored after completed fires generation.stale", async () => {
  // One queue, which a worker of concurrency 1 takes in the order stored. With partitions, two
  // deliveries of one generation may sit in two queues and run in either order (docs/inbox.md).
  const webhooks: Webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET } },
    inbox: bullmqInbox({ connection: client, queueName: `order-${randomUUID().slice(0, 8)}`, attempts: 3, backoff: 10 }),
  });
  try {
    const fired: [string, string | undefined][] = [];
    webhooks.on("generation.completed", (event) => void fired.push(["generation.completed", event.generation.previousStatus]));
    webhooks.on("generation.processing", (event) => void fired.push(["generation.processing", event.generation.previousStatus]));
    webhooks.on("generation.stale", (event) => void fired.push(["generation.stale", event.generation.previousStatus]));
    const code = randomUUID().replace(/-/g, "");
    const send = (state: "DONE" | "PROCESSING") =>
      webhooks.receive({
        provider: "crazyhorse",
        headers: { "content-type": "application/json" },
        query: { token: SECRET },
        rawBody: JSON.stringify(crazyhorseDelivery({ code, state })),
      });
    expect((await send("DONE")).status).toBe(200);
    expect((await send("PROCESSING")).status).toBe(200);
    await webhooks.startWorker({ concurrency: 1 });
    for (let i = 0; i < 250 && fired.length < 2; i++) await sleep(20);
    expect(fired).toEqual([
      ["generation.completed", undefined],
      ["generation.stale", "completed"],
    ]);
  } finally {
    await webhooks.close();
  }
});
