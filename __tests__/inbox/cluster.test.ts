// The durable inbox on a real Redis Cluster of this file's own (three primaries, a replica each:
// six redis-server processes), as __tests__/inbox/durability.test.ts proves it on one Redis: real
// processes (__tests__/helpers/inbox-instance.ts), each listener run recorded in the cluster as
// "<id>|<attempt>|<pid>". With partitions: 3 the deliveries are spread over the three primaries.
import { execFile } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { join } from "node:path";
import type { Cluster } from "ioredis";
import { createWebhooks } from "imagegen-webhooks";
import { bullmqInbox, DEFAULT_CLUSTER_PREFIX } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { agent, killHard, post, sendToAll, sleep, startProcess, type ServerProcess } from "../helpers/processes";
import { clusterClient, startRedisCluster, type RedisCluster } from "../helpers/redis-cluster";

jest.setTimeout(120_000);

const SECRET = "crazyhorse-secret-for-the-inbox-cluster-test";
const PATH = `/webhooks/crazyhorse?token=${SECRET}`;
// As in durability.test.ts: short, but not so short that a busy machine's late lock renewal looks like a dead worker.
const LOCK_MS = "4000";

let cluster: RedisCluster;
let client: Cluster;
const running: ServerProcess[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster({ primaries: 3, replicas: 1 });
  client = clusterClient(cluster, { forBullmq: true });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map(killHard));
});

afterAll(async () => {
  agent.destroy();
  client?.disconnect();
  await cluster?.stop();
});

function start(queue: string, env: Record<string, string>): Promise<ServerProcess> {
  const nodes = cluster.nodes.filter((node) => node.server.alive()).map((node) => `127.0.0.1:${node.port}`);
  return startProcess("inbox-instance.ts", { CLUSTER_NODES: nodes.join(","), QUEUE: queue, WEBHOOK_SECRET: SECRET, ...env }).then(
    (server) => {
      running.push(server);
      return server;
    },
  );
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

async function waitUntilDone(queue: string, ids: Iterable<string>, timeoutMs = 60_000): Promise<Run[]> {
  const wanted = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await runs(queue, "done").catch(() => []);
    const finished = new Set(done.map((run) => run.id));
    const missing = [...wanted].filter((id) => !finished.has(id));
    if (missing.length === 0) return done;
    if (Date.now() > deadline)
      throw new Error(`${missing.length} acknowledged deliveries never reached their listener, e.g. ${missing.slice(0, 3).join(", ")}`);
    await sleep(200);
  }
}

/** Deliveries whose codes are the same on every run, so that how they spread over the partitions is too. */
function bodies(count: number, seed: string): { bodies: string[]; ids: string[] } {
  const code = (i: number) => createHash("sha1").update(`${seed}-${i}`).digest("hex").slice(0, 32);
  const payloads = Array.from({ length: count }, (_, i) => crazyhorseDelivery({ code: code(i), state: "DONE" }));
  return { bodies: payloads.map((p) => JSON.stringify(p)), ids: payloads.map((p) => `${p.code}:done`) };
}

/** The queue's delivery jobs on each primary (its own keys, counted on the node itself). */
async function jobsPerPrimary(queue: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const { port } of await cluster.primaries()) {
    const node = cluster.direct(port);
    let count = 0;
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", `*:${queue}:crazyhorse%3A*`, "COUNT", 1000);
      count += keys.filter((key) => !key.endsWith(":logs")).length;
      cursor = next;
    } while (cursor !== "0");
    node.disconnect();
    counts.set(port, count);
  }
  return counts;
}

function receive(webhooks: ReturnType<typeof createWebhooks>, code = randomUUID().replace(/-/g, "")) {
  return webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: SECRET },
    rawBody: JSON.stringify(crazyhorseDelivery({ code, state: "DONE" })),
  });
}

describe("bullmqInbox() on a Redis Cluster: the start-up checks", () => {
  test("a Cluster whose redisOptions lack maxRetriesPerRequest: null is refused, naming where the setting goes", () => {
    const plain = clusterClient(cluster);
    try {
      expect(() => bullmqInbox({ connection: plain })).toThrow(/redisOptions: \{ maxRetriesPerRequest: null \}/);
    } finally {
      plain.disconnect();
    }
  });

  test("a prefix without a hash tag is refused at start-up, saying why the braces matter", () => {
    expect(() => bullmqInbox({ connection: client, prefix: "imagegen-webhooks" })).toThrow(
      /on a Redis Cluster the prefix must hold a hash tag in braces, e\.g\. "\{imagegen-webhooks\}", got "imagegen-webhooks".*one slot/,
    );
    // Empty braces are no hash tag: Redis hashes the whole key then.
    expect(() => bullmqInbox({ connection: client, prefix: "{}imagegen" })).toThrow(/hash tag in braces/);
  });

  test("by default the queue lives under {imagegen-webhooks}, and a delivery is stored, listed and counted there", async () => {
    const queueName = `defaults-${randomUUID().slice(0, 8)}`;
    const inbox = bullmqInbox({ connection: client, queueName });
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, inbox });
    try {
      const code = randomUUID().replace(/-/g, "");
      expect((await receive(webhooks, code)).status).toBe(200);
      expect(DEFAULT_CLUSTER_PREFIX).toBe("{imagegen-webhooks}");
      expect(await client.exists(`{imagegen-webhooks}:${queueName}:crazyhorse%3A${code}%3Adone`)).toBe(1);
      expect((await receive(webhooks, code)).status).toBe(200);
      expect(await inbox.counts?.()).toMatchObject({ queued: 1 });
      expect((await webhooks.deliveries.get(`crazyhorse:${code}:done`))?.status).toBe("queued");
    } finally {
      await webhooks.close();
    }
  });
});

test("partitions: 3 — two edges and two workers, 500 deliveries each sent to both edges: each completes once, the three primaries each hold about a third, and the history, counts and CLI see all of them", async () => {
  const queue = `pair-${randomUUID().slice(0, 8)}`;
  const env = { PARTITIONS: "3" };
  const edges = await Promise.all([start(queue, { ...env, ROLE: "edge" }), start(queue, { ...env, ROLE: "edge" })]);
  const workers = await Promise.all([
    start(queue, { ...env, ROLE: "worker", CONCURRENCY: "10" }),
    start(queue, { ...env, ROLE: "worker", CONCURRENCY: "10" }),
  ]);
  const { bodies: all, ids } = bodies(500, "pair");

  const tally = await sendToAll(
    edges.map((edge) => edge.port),
    PATH,
    all,
  );
  expect(tally.delivered).toBe(500);

  const done = await waitUntilDone(queue, ids);
  const counts = countBy(done);
  expect(ids.filter((id) => counts.get(id) !== 1)).toEqual([]);
  const pids = new Set(done.map((run) => run.pid));
  for (const worker of workers) expect(pids.has(worker.child.pid!)).toBe(true);

  // Each primary holds one partition: about a third of the deliveries each.
  const perPrimary = await jobsPerPrimary(queue);
  expect(perPrimary.size).toBe(3);
  expect([...perPrimary.values()].reduce((a, b) => a + b, 0)).toBe(500);
  for (const count of perPrimary.values()) expect(count).toBeGreaterThan(120);

  // The history is the three queues': counts, a list over all of them, and any one delivery.
  const history = bullmqInbox({ connection: client, queueName: queue, partitions: 3 });
  try {
    expect(history.queues).toHaveLength(3);
    expect(new Set(history.queues.map((q) => q.opts.prefix)).size).toBe(3);
    expect(await history.counts?.()).toEqual({ queued: 0, active: 0, retrying: 0, completed: 500, dead: 0 });
    const listed = await history.list({ limit: 1000 });
    expect(new Set(listed.map((d) => d.key))).toEqual(new Set(ids.map((id) => `crazyhorse:${id}`)));
    for (const id of ids.slice(0, 5)) expect(await history.get(`crazyhorse:${id}`)).toMatchObject({ status: "completed", attempts: 1 });
  } finally {
    await history.close();
  }

  // The CLI, on the cluster: every partition's deliveries, one line each under the header.
  const node = `redis://127.0.0.1:${cluster.nodes[0]!.port}`;
  const args = ["deliveries", "list", "--redis", node, "--cluster", "--partitions", "3", "--queue", queue, "--limit", "1000"];
  const { stdout, stderr } = await cli(args);
  expect(stderr).toBe("");
  expect(stdout.trim().split("\n")).toHaveLength(501);
});

/** The CLI in a process of its own, as a shell runs it; a failure shows as its stderr. */
function cli(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const entry = join(__dirname, "..", "..", "lib", "cli", "index.ts");
    execFile(process.execPath, ["--import", "tsx", entry, ...args], { timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr: stderr || (error?.message ?? "") }),
    );
  });
}

test("SIGKILL of a worker mid-run on the cluster, partitions: 3: every delivery answered 2xx completes in a fresh process", async () => {
  const queue = `kill-${randomUUID().slice(0, 8)}`;
  const env = { PARTITIONS: "3", LOCK_MS };
  const first = await start(queue, { ...env, ROLE: "both", LISTENER_MS: "100", CONCURRENCY: "5" });
  const { bodies: all, ids } = bodies(300, "kill");

  // The process is killed once 150 are acknowledged, while its worker (5 at a time per partition,
  // 100 ms each) is far behind: deliveries are waiting and active in every partition.
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
      if (acknowledged.size === 150 && !killed) killed = killHard(first);
    }
  };
  await Promise.all(Array.from({ length: 16 }, sender));
  await killed;
  expect([...statuses.keys()].filter((s) => s !== 200 && s !== 0)).toEqual([]);
  const doneBeforeKill = await runs(queue, "done");
  expect(doneBeforeKill.length).toBeLessThan(acknowledged.size);

  const second = await start(queue, { ...env, ROLE: "worker", LISTENER_MS: "10", CONCURRENCY: "10" });
  const done = await waitUntilDone(queue, acknowledged);
  const doneBySecond = new Set(done.filter((r) => r.pid === second.child.pid).map((r) => r.id));
  const finishedBefore = new Set(doneBeforeKill.map((r) => r.id));
  expect([...acknowledged].filter((id) => !finishedBefore.has(id) && !doneBySecond.has(id))).toEqual([]);
  // Only what was active at the kill runs twice: at most 5 per partition.
  const twice = [...countBy(done)].filter(([, n]) => n > 1);
  expect(twice.length).toBeLessThanOrEqual(15);
});

test("a primary killed mid-run (a replica each, waitForReplicas: 1): deliveries are answered 503 or stored, and after the failover every acknowledged one completes", async () => {
  const queue = `failover-${randomUUID().slice(0, 8)}`;
  const env = { PARTITIONS: "3", WAIT_REPLICAS: "1", LOCK_MS };
  const edge = await start(queue, { ...env, ROLE: "edge" });
  await start(queue, { ...env, ROLE: "worker", CONCURRENCY: "10" });
  const { bodies: all, ids } = bodies(600, "failover");
  const [victim] = await cluster.primaries();
  const node = cluster.nodes.find((n) => n.port === victim!.port)!;

  // The primary dies; its replica takes over, with no replica of its own until the dead node is
  // started again (as an orchestrator would) and joins as the new primary's replica: until then
  // that shard's deliveries cannot be acknowledged under waitForReplicas, and are answered 503.
  let failoverStarted!: () => void;
  const failover = new Promise<void>((resolve) => (failoverStarted = resolve)).then(async () => {
    await node.server.kill();
    await cluster.waitUntilHealthy();
    await node.server.restart();
    await cluster.waitUntilReplicasSynced();
  });
  const tally = await sendToAll([edge.port], PATH, all, (count) => count === 150 && failoverStarted());
  await failover;

  expect(tally.delivered).toBe(600);
  // The failover was felt, and answered 503 and nothing else: never a 2xx for a delivery not stored.
  expect(tally.statuses.get(503) ?? 0).toBeGreaterThan(0);
  expect([...tally.statuses.keys()].sort()).toEqual([200, 503]);
  const done = await waitUntilDone(queue, ids);
  expect(ids.filter((id) => !countBy(done).has(id))).toEqual([]);
});
