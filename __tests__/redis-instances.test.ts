// The promise of the Redis store, end to end: two instances in two processes, each its own
// Express server, receive every delivery at the same moment (a provider's retry landing on
// another instance, at its worst), and each delivery is handled exactly once across the two;
// then Redis dies mid-run and comes back, and the deliveries answered 503 meanwhile are retried
// by their sender and handled once, none lost.
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { startRedisServer, type RedisServer } from "./helpers/redis-server";

jest.setTimeout(60_000);

const SECRET = "crazyhorse-secret-for-the-instances-test";
const FIXTURE = join(__dirname, "helpers", "redis-instance.ts");
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  port: number;
  child: ChildProcess;
}

let redis: RedisServer;
let instances: Instance[] = [];

/** Starts one instance and waits for the port it prints. */
function startInstance(redisUrl: string): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE], {
    cwd: join(__dirname, ".."),
    env: { ...process.env, REDIS_URL: redisUrl, WEBHOOK_SECRET: SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the instance did not start within 30 s:\n${stderr}`)), 30_000);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      resolve({ port: (JSON.parse(line) as { port: number }).port, child });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the instance exited (${code}) before it listened:\n${stderr}`));
    });
  });
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        method: "POST",
        path: `/webhooks/crazyhorse?token=${SECRET}`,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

async function handledBy(instance: Instance): Promise<string[]> {
  return new Promise((resolve, reject) => {
    request({ agent, host: "127.0.0.1", port: instance.port, path: "/handled" }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => void (text += chunk.toString()));
      res.once("end", () => resolve(JSON.parse(text) as string[]));
    })
      .once("error", reject)
      .end();
  });
}

interface Tally {
  /** Every answer, retried ones included, by status. */
  statuses: Map<number, number>;
  /** Deliveries whose copies were all answered 2xx in the end. */
  delivered: number;
}

/**
 * Sends each delivery to every instance at once, as a sender that retries until it gets a 2xx
 * would (503 and 409 and 500 are retried); `onDelivered` sees the running count.
 */
async function sendToAll(bodies: string[], onDelivered: (count: number) => void = () => {}): Promise<Tally> {
  const tally: Tally = { statuses: new Map(), delivered: 0 };
  const sendCopy = async (port: number, body: string): Promise<void> => {
    // Bounded: 300 tries 20 to 50 ms apart is well past the outage and the in-flight expiry.
    for (let attempt = 0; attempt < 300; attempt++) {
      const status = await post(port, body).catch(() => 0);
      tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
      if (status === 200 || status === 202) return;
      await sleep(20 + Math.random() * 30);
    }
    throw new Error(`a delivery was never answered 2xx by the instance on port ${port}`);
  };
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await Promise.all(instances.map((instance) => sendCopy(instance.port, body)));
      onDelivered(++tally.delivered);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return tally;
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
  for (const { child } of instances) {
    if (child.exitCode === null) {
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
    }
  }
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
