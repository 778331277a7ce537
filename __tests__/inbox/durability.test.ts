// The inbox's promise, proven by killing things: nothing answered 2xx is lost. Real processes
// (__tests__/helpers/inbox-instance.ts) over a real redis-server of this test's own, with every
// write on disk; each listener run is recorded in Redis as "<id>|<attempt>|<pid>".
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { agent, killHard, post, sendToAll, sleep, startProcess, type ServerProcess } from "../helpers/processes";
import { startRedisServer, type RedisServer } from "../helpers/redis-server";

jest.setTimeout(120_000);

const SECRET = "crazyhorse-secret-for-the-inbox-durability-test";
const PATH = `/webhooks/crazyhorse?token=${SECRET}`;
// How long a killed worker's deliveries wait before another takes them. Short, for a quick test,
// but not so short that a busy machine's late lock renewal looks like a dead worker.
const LOCK_MS = "4000";

let redis: RedisServer;
let client: Redis;
const running: ServerProcess[] = [];

beforeAll(async () => {
  redis = await startRedisServer({ persistent: true });
  client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(n * 50, 500) });
  client.on("error", () => {});
});

afterEach(async () => {
  await Promise.all(running.splice(0).map(killHard));
});

afterAll(async () => {
  agent.destroy();
  client.disconnect();
  await redis?.stop();
});

function start(queue: string, env: Record<string, string>): Promise<ServerProcess> {
  return startProcess("inbox-instance.ts", { REDIS_URL: redis.url, QUEUE: queue, WEBHOOK_SECRET: SECRET, ...env }).then((server) => {
    running.push(server);
    return server;
  });
}

interface Run {
  id: string;
  attempt: number;
  pid: number;
}

async function runs(queue: string, list: "started" | "done"): Promise<Run[]> {
  const entries = await client.lrange(`${queue}:${list}`, 0, -1);
  return entries.map((entry) => {
    const [id = "", attempt, pid] = entry.split("|");
    return { id, attempt: Number(attempt), pid: Number(pid) };
  });
}

function countBy(list: Run[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { id } of list) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

/** Waits until every id has a finished run; fails with the missing ones. */
async function waitUntilDone(queue: string, ids: Iterable<string>, timeoutMs = 60_000): Promise<Run[]> {
  const wanted = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await runs(queue, "done");
    const missing = [...wanted].filter((id) => !done.some((run) => run.id === id));
    if (missing.length === 0) return done;
    if (Date.now() > deadline)
      throw new Error(`${missing.length} acknowledged deliveries never reached their listener, e.g. ${missing.slice(0, 3).join(", ")}`);
    await sleep(200);
  }
}

function bodies(count: number): { bodies: string[]; ids: string[] } {
  const payloads = Array.from({ length: count }, () => crazyhorseDelivery({ state: "DONE" }));
  return { bodies: payloads.map((p) => JSON.stringify(p)), ids: payloads.map((p) => `${p.code}:done`) };
}

test("SIGKILL mid-run: every delivery answered 2xx reaches its listener in a fresh process; only those active at the kill run twice, and say so", async () => {
  const queue = `kill-${randomUUID().slice(0, 8)}`;
  const first = await start(queue, { ROLE: "both", LISTENER_MS: "100", CONCURRENCY: "10", LOCK_MS: LOCK_MS });
  const { bodies: all, ids } = bodies(500);

  // 500 deliveries, 16 at a time; the process is killed once 250 are acknowledged, while the
  // worker (10 at a time, 100 ms each) is far behind: deliveries are waiting and active.
  const acknowledged = new Set<string>();
  const statuses = new Map<number, number>();
  let killed: Promise<void> | undefined;
  let next = 0;
  const sender = async () => {
    while (next < all.length) {
      const i = next++;
      const status = await post(first.port, PATH, all[i]!).catch(() => 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) acknowledged.add(ids[i]!);
      if (acknowledged.size === 250 && !killed) killed = killHard(first);
    }
  };
  await Promise.all(Array.from({ length: 16 }, sender));
  await killed;
  // Only 2xx or a refused connection: nothing in between was answered otherwise.
  expect([...statuses.keys()].filter((s) => s !== 200 && s !== 0)).toEqual([]);
  expect(acknowledged.size).toBeGreaterThanOrEqual(250);

  const doneBeforeKill = await runs(queue, "done");
  // The kill left work behind: acknowledged deliveries whose listener never finished.
  expect(doneBeforeKill.length).toBeLessThan(acknowledged.size);
  // Active at the kill, as the inbox's own history tells it: taken by the dead worker and not
  // completed (its listener may not have started yet, or may have finished just before the kill).
  const history = bullmqInbox({ connection: client, queueName: queue });
  const activeAtKill = new Set((await history.list({ status: "active", limit: 100 })).map((d) => d.id));
  await history.close();

  expect(activeAtKill.size).toBeGreaterThan(0);

  const second = await start(queue, { ROLE: "worker", LISTENER_MS: "100", CONCURRENCY: "10", LOCK_MS: LOCK_MS });
  const done = await waitUntilDone(queue, acknowledged);

  // Every acknowledged delivery finished; the ones that ran twice were active at the kill, and
  // their second run is attempt 2, in the fresh process.
  const twice = [...countBy(await runs(queue, "started"))].filter(([, n]) => n > 1).map(([id]) => id);
  for (const id of twice) expect(activeAtKill.has(id)).toBe(true);
  for (const run of done.filter((r) => twice.includes(r.id) && r.pid === second.child.pid)) expect(run.attempt).toBe(2);
  expect(twice.length).toBeLessThanOrEqual(10);
  // The fresh process finished what the killed one left, the deliveries active at the kill among them.
  // (Deliveries stored whose answer the kill cut off are run too: stored is what counts, not answered.)
  const doneBySecond = new Set(done.filter((r) => r.pid === second.child.pid).map((r) => r.id));
  const leftBehind = [...acknowledged].filter((id) => !doneBeforeKill.some((r) => r.id === id));
  expect(leftBehind.filter((id) => !doneBySecond.has(id))).toEqual([]);
  expect([...activeAtKill].filter((id) => !doneBySecond.has(id))).toEqual([]);
  // Nothing finished twice except what was active at the kill.
  for (const [id, n] of countBy(done)) if (n > 1) expect(activeAtKill.has(id)).toBe(true);
});

test("two edges and two workers, 2,000 deliveries each sent to both edges at once: each delivery's listeners complete exactly once", async () => {
  const queue = `pair-${randomUUID().slice(0, 8)}`;
  const edges = await Promise.all([start(queue, { ROLE: "edge" }), start(queue, { ROLE: "edge" })]);
  const workers = await Promise.all([
    start(queue, { ROLE: "worker", CONCURRENCY: "20" }),
    start(queue, { ROLE: "worker", CONCURRENCY: "20" }),
  ]);
  const { bodies: all, ids } = bodies(2000);

  const tally = await sendToAll(
    edges.map((edge) => edge.port),
    PATH,
    all,
  );
  expect(tally.delivered).toBe(2000);

  const done = await waitUntilDone(queue, ids);
  const counts = countBy(done);
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  expect(counts.size).toBe(2000);
  // Both workers took deliveries: exactly once held across two processes.
  const pids = new Set(done.map((run) => run.pid));
  for (const worker of workers) expect(pids.has(worker.child.pid!)).toBe(true);
});

test("Redis killed mid-run: only 503s while it is down, and no acknowledged delivery is lost after it restarts", async () => {
  const queue = `outage-${randomUUID().slice(0, 8)}`;
  const instance = await start(queue, { ROLE: "both", CONCURRENCY: "20" });
  const { bodies: all, ids } = bodies(1000);

  let outageStarted!: () => void;
  const startOutage = new Promise<void>((resolve) => (outageStarted = resolve));
  const outage = startOutage.then(async () => {
    await redis.kill();
    await sleep(1500);
    await redis.restart();
  });
  const tally = await sendToAll([instance.port], PATH, all, (count) => count === 250 && outageStarted());
  await outage;

  expect(tally.delivered).toBe(1000);
  // The outage was real, and it was answered 503 and nothing else: never a 2xx that was not stored.
  expect(tally.statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect([...tally.statuses.keys()].sort()).toEqual([200, 503]);

  const done = await waitUntilDone(queue, ids);
  const counts = countBy(done);
  expect(ids.filter((id) => !counts.has(id))).toEqual([]);
});
