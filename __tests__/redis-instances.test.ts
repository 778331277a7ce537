// The promise of the Redis store, end to end: two instances in two processes, each its own
// Express server, receive every delivery at the same moment (a provider's retry landing on
// another instance, at its worst), and each delivery is handled exactly once across the two;
// then Redis dies mid-run and comes back, and the deliveries answered 503 meanwhile are retried
// by their sender and handled once, none lost.
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { agent, getJson, killHard, sendToAll as send, sleep, startProcess, type ServerProcess, type Tally } from "./helpers/processes";
import { startRedisServer, type RedisServer } from "./helpers/redis-server";

jest.setTimeout(60_000);

const SECRET = "crazyhorse-secret-for-the-instances-test";
const PATH = `/webhooks/crazyhorse?token=${SECRET}`;

let redis: RedisServer;
let instances: ServerProcess[] = [];

function startInstance(redisUrl: string): Promise<ServerProcess> {
  return startProcess("redis-instance.ts", { REDIS_URL: redisUrl, WEBHOOK_SECRET: SECRET });
}

function handledBy(instance: ServerProcess): Promise<string[]> {
  return getJson<string[]>(instance.port, "/handled");
}

function sendToAll(bodies: string[], onDelivered?: (count: number) => void): Promise<Tally> {
  return send(
    instances.map((instance) => instance.port),
    PATH,
    bodies,
    onDelivered,
  );
}

/** How many times each id was handled, over every instance. */
async function handledCounts(): Promise<{ counts: Map<string, number>; perInstance: number[] }> {
  const lists = await Promise.all(instances.map(handledBy));
  const counts = new Map<string, number>();
  for (const id of lists.flat()) counts.set(id, (counts.get(id) ?? 0) + 1);
  return { counts, perInstance: lists.map((list) => list.length) };
}

function deliveries(count: number): { bodies: string[]; ids: string[] } {
  const payloads = Array.from({ length: count }, () => crazyhorseDelivery({ state: "DONE" }));
  return { bodies: payloads.map((p) => JSON.stringify(p)), ids: payloads.map((p) => `${p.code}:done`) };
}

/** The ids handled other than exactly once, with their counts: empty is the promise kept. */
function notExactlyOnce(counts: Map<string, number>, ids: string[]): [string, number][] {
  return ids.map((id): [string, number] => [id, counts.get(id) ?? 0]).filter(([, n]) => n !== 1);
}

beforeAll(async () => {
  // A Redis of its own, which this test kills and restarts; every write on disk, as a production
  // Redis that must not forget its keys across a restart would be configured.
  redis = await startRedisServer({ persistent: true });
  instances = await Promise.all([startInstance(redis.url), startInstance(redis.url)]);
});

afterAll(async () => {
  await Promise.all(instances.map(killHard));
  agent.destroy();
  await redis?.stop();
});

test("2,000 deliveries, each sent to two instances at once, are each handled exactly once across the two", async () => {
  const { bodies, ids } = deliveries(2000);
  const tally = await sendToAll(bodies);
  expect(tally.delivered).toBe(2000);

  const { counts, perInstance } = await handledCounts();
  expect(notExactlyOnce(counts, ids)).toEqual([]);
  expect(counts.size).toBe(2000);
  // Both instances won some of the races: the exactly-once above was kept across two processes.
  expect(Math.min(...perInstance)).toBeGreaterThan(0);
});

test("Redis stopped mid-run and started again: the deliveries answered 503 meanwhile are retried, handled once, none lost", async () => {
  const before = (await handledCounts()).counts;
  const { bodies, ids } = deliveries(1000);

  let outageStarted!: () => void;
  const startOutage = new Promise<void>((resolve) => (outageStarted = resolve));
  const outage = startOutage.then(async () => {
    await redis.kill();
    await sleep(700);
    await redis.restart();
  });
  const tally = await sendToAll(bodies, (count) => count === 250 && outageStarted());
  await outage;

  expect(tally.delivered).toBe(1000);
  // The outage was real: some answers were 503 (Redis unreachable), and were retried.
  expect(tally.statuses.get(503) ?? 0).toBeGreaterThan(0);

  const { counts } = await handledCounts();
  expect(notExactlyOnce(counts, ids)).toEqual([]);
  // The first test's deliveries were not handled again either.
  for (const [id, n] of before) expect([id, counts.get(id)]).toEqual([id, n]);
});
