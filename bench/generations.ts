// What webhooks.generations costs: Redis round trips of track() and of deliveries tracked and not;
// the CPU of a delivery of a tracked generation against an untracked one (in memory, through
// receive(), interleaved rounds); and the heap that 100,000 tracked generations hold in memory mode.
//   npm run bench:generations                     (REDIS_URL, or a throwaway redis-server on PATH)
//   npm run bench:generations -- --deliveries 20000 --rounds 6
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { createWebhooks, MemoryGenerations, type Webhooks } from "../lib/entries/index";
import { redisStore } from "../lib/entries/redis/index";
import { replicateDelivery } from "../lib/entries/testing/index";
import { startRedisServer } from "../__tests__/helpers/redis-server";

const SECRET = "bench-generations-secret";
const { values } = parseArgs({
  options: { deliveries: { type: "string", default: "10000" }, rounds: { type: "string", default: "6" } },
});
const DELIVERIES = Number(values.deliveries);
const ROUNDS = Number(values.rounds);

const input = (body: unknown) => ({
  provider: "replicate",
  headers: { "content-type": "application/json" },
  query: { token: SECRET },
  rawBody: JSON.stringify(body),
});

/** Commands sent to Redis by `work`, counted on the client. */
async function commandsOf(redis: Redis, work: () => Promise<unknown>): Promise<number> {
  let commands = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis["sendCommand"]>) => {
    commands++;
    return send(...args);
  };
  try {
    await work();
  } finally {
    redis.sendCommand = send;
  }
  return commands;
}

async function roundTrips(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise((resolve) => redis.once("ready", resolve));
  const webhooks = createWebhooks({
    providers: { replicate: { secret: SECRET } },
    dedupe: redisStore(redis, { keyPrefix: `bench-generations-${randomUUID()}:`, ttlMs: 60_000 }),
  });
  // Scripts cached first, so that no NOSCRIPT retry is counted.
  await webhooks.generations.track("replicate", "warm");
  await webhooks.receive(input(replicateDelivery("succeeded", { id: "warm" })));
  const id = randomUUID();
  const track = await commandsOf(redis, () => webhooks.generations.track("replicate", id, { metadata: { userId: "u_1" } }));
  const tracked = await commandsOf(redis, () => webhooks.receive(input(replicateDelivery("succeeded", { id }))));
  const untracked = await commandsOf(redis, () => webhooks.receive(input(replicateDelivery("succeeded"))));
  console.log(`Redis round trips: track() ${track}; a delivery untracked ${untracked}, tracked ${tracked}`);
  await webhooks.close();
  redis.disconnect();
}

/** CPU µs per delivery through receive(), in memory, of `count` new completed generations. */
async function cpuPerDelivery(webhooks: Webhooks, tracked: boolean): Promise<number> {
  const bodies = Array.from({ length: DELIVERIES }, () => replicateDelivery("succeeded"));
  if (tracked) for (const body of bodies) await webhooks.generations.track("replicate", body.id, { metadata: { userId: "u_1", order: 7 } });
  const inputs = bodies.map(input);
  // The garbage of the setup (the tracks included) collected before, not charged to the deliveries.
  (globalThis as { gc?: () => void }).gc?.();
  const start = process.cpuUsage();
  for (const delivery of inputs) await webhooks.receive(delivery);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / DELIVERIES;
}

async function cpu(): Promise<void> {
  const webhooks = createWebhooks({
    providers: { replicate: { secret: SECRET } },
    generations: new MemoryGenerations({ maxEntries: 2 * DELIVERIES * (ROUNDS + 1) }),
  });
  webhooks.on("generation.completed", () => {});
  await cpuPerDelivery(webhooks, false); // warm-up
  await cpuPerDelivery(webhooks, true);
  const untracked: number[] = [];
  const tracked: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Each goes first in every other round, so that neither always follows the other's garbage.
    if (round % 2 === 0) untracked.push(await cpuPerDelivery(webhooks, false));
    tracked.push(await cpuPerDelivery(webhooks, true));
    if (round % 2 === 1) untracked.push(await cpuPerDelivery(webhooks, false));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const [u, t] = [median(untracked), median(tracked)];
  console.log(
    `CPU per delivery (memory, receive(), median of ${ROUNDS}): untracked ${u.toFixed(1)} µs, tracked ${t.toFixed(1)} µs: ×${(t / u).toFixed(3)}`,
  );
  await webhooks.close();
}

async function heap(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc (npm run bench:generations does)");
  const count = 100_000;
  const store = new MemoryGenerations({ maxEntries: count });
  const webhooks = createWebhooks({ providers: { replicate: { secret: SECRET } }, generations: store });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) {
    // An id as the provider's create call answers it: a string parsed from JSON (randomUUID()'s own
    // strings are ropes of many pieces, several times the size).
    const id = JSON.parse(`"${randomUUID().replaceAll("-", "").slice(0, 26)}"`) as string;
    await webhooks.generations.track("replicate", id, { metadata: { userId: `u_${i}`, orderId: `o_${i}`, chatMessage: i } });
  }
  gc();
  const after = process.memoryUsage().heapUsed;
  console.log(
    `100,000 tracked generations in memory (metadata of 3 fields each): ${((after - before) / 1024 / 1024).toFixed(1)} MB of heap`,
  );
  await webhooks.close();
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? server!.url;
  try {
    await roundTrips(redisUrl);
    await cpu();
    await heap();
  } finally {
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
