// npm run bench:inbox: what durability costs. The inbox's edge (each delivery stored in BullMQ
// before the answer) against the bare express.json() route, rounds interleaved, both in processes
// of their own; then end to end, an edge and a worker process: deliveries per second from the
// first request to the last listener done, against the edge's own rate. Redis's own CPU per
// delivery from its INFO. Beside them, the same middleware in memory mode (what the pipeline costs
// without the inbox), and express-bullmq, the hand-written handler on BullMQ (express.json(), then
// Queue.add, then the answer). A redis-server of its own, persistent as docs/inbox.md recommends
// (appendonly yes, appendfsync everysec).
// --before DIR: the edge of another build (this package compiled from an earlier commit) measured beside it, in the same rounds.
//   node bench/inbox.mjs [--rounds 4] [--duration 2] [--connections 10] [--size 1000] [--concurrency 50] [--e2e-seconds 5] [--before DIR]
import { fork, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Redis } from "ioredis";
import { buildScratch, root } from "./build.mjs";
import { ask, median, shuffled, start } from "./harness.mjs";
import { crazyhorseTemplate, TOKEN, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    duration: { type: "string", default: "2" },
    connections: { type: "string", default: "10" },
    size: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "50" },
    "e2e-seconds": { type: "string", default: "5" },
    before: { type: "string" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const connections = Number(flags.connections);
const { head, tail } = crazyhorseTemplate(Number(flags.size));
const QUEUE = "bench-inbox";

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "bench-inbox-redis-"));
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
    { stdio: "ignore" },
  );
  const client = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on("error", () => {}); // refused until redis-server listens: the client retries

  await new Promise((resolve) => client.once("ready", resolve));
  const stop = () => {
    client.disconnect();
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  return { url: `redis://127.0.0.1:${port}`, client, stop };
}

/** How many MULTIs and adds Redis ran since its counters were last reset. */
async function transactions(client) {
  const info = await client.info("commandstats");
  const calls = (name) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { execs: calls("exec"), adds: calls("evalsha") + calls("eval") };
}

/** Redis's own CPU time so far, in microseconds (user + system, from INFO cpu). */
async function redisCpu(client) {
  const info = await client.info("cpu");
  const read = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (read("used_cpu_user") + read("used_cpu_sys")) * 1e6;
}

function load(server, seconds) {
  const path = "/webhooks/crazyhorse";
  const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
  return autocannon({
    url: server.url + path,
    method: "POST",
    connections,
    duration: seconds,
    headers,
    requests: [{ method: "POST", path, headers, setupRequest: (req) => ({ ...req, body: head + uniqueCode() + tail }) }],
  });
}

function startWorker(dist, env) {
  const child = fork(join(root, "bench/inbox-worker.mjs"), [dist, flags.concurrency], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the worker exited with ${code} before it was ready`)));
    child.once("message", () => {
      child.removeAllListeners("exit");
      resolve(child);
    });
  });
}

const dist = buildScratch();
const redis = await startRedis();
const env = { REDIS_URL: redis.url, QUEUE };
console.log(
  `machine: ${cpus()[0]?.model}, ${cpus().length} cores, Node ${process.version}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
console.log(
  `rounds ${rounds} × ${duration}s, ${connections} connections, ${Number(flags.size)} B bodies, Redis appendonly yes / everysec\n`,
);

try {
  // The edge alone: no worker, so the queue only grows; Redis is emptied between rounds.
  // ours-express, the same middleware in memory mode, shows what the pipeline costs without the inbox.
  const samples = { "express-json": [], "ours-express": [], "express-bullmq": [], "ours-inbox-express": [] };
  const BEFORE = "ours-inbox-express (before)";
  if (flags.before) samples[BEFORE] = [];
  const batchSizes = [];
  for (let round = 0; round < rounds; round++) {
    await redis.client.flushall();
    const servers = await Promise.all(
      Object.keys(samples).map((name) =>
        name === BEFORE
          ? start({ kind: "ours-inbox-express", listeners: 1, dist: resolve(flags.before), name }, dist, env)
          : start({ kind: name, listeners: 1, name }, dist, env),
      ),
    );
    try {
      for (const server of servers) await load(server, 1);
      for (const server of shuffled(servers)) {
        await redis.client.config("RESETSTAT");
        const before = await ask(server.child, "cpu");
        const redisBefore = await redisCpu(redis.client);
        const r = await load(server, duration);
        const after = await ask(server.child, "cpu");
        const redisUs = (await redisCpu(redis.client)) - redisBefore;
        if (server.name === "ours-inbox-express") {
          const { execs, adds } = await transactions(redis.client);
          batchSizes.push(adds / Math.max(1, execs));
        }
        samples[server.name][round] = {
          rps: r.requests.average,
          p99: r.latency.p99,
          cpu: (after.cpu - before.cpu) / Math.max(1, r.requests.total),
          redis: redisUs / Math.max(1, r.requests.total),
          bad: r.non2xx + r.errors,
        };
      }
    } finally {
      for (const server of servers) server.child.kill("SIGTERM");
    }
  }
  // Per-round ratios against the express.json() route: throughput, and its CPU per request over the
  // row's (what throughput would be with each server on a core of its own and Redis elsewhere).
  const base = samples["express-json"];
  console.log(
    "| server | req/s | p99 ms | CPU µs/req | Redis CPU µs/req | × express.json() | CPU × express.json() | non-2xx |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [kind, list] of Object.entries(samples)) {
    const rps = median(list.map((s, i) => s.rps / base[i].rps)).toFixed(2);
    const cpu = median(list.map((s, i) => base[i].cpu / s.cpu)).toFixed(2);
    console.log(
      `| ${kind} | ${Math.round(median(list.map((s) => s.rps)))} | ${median(list.map((s) => s.p99))} | ${Math.round(median(list.map((s) => s.cpu)))} | ` +
        `${Math.round(median(list.map((s) => s.redis)))} | ${rps} | ${cpu} | ${list.reduce((n, s) => n + s.bad, 0)} |`,
    );
  }
  const batch = median(batchSizes);
  console.log(`\nthe inbox's edge: ${batch.toFixed(1)} deliveries per MULTI (median of ${rounds} rounds)`);

  // End to end: an edge and a worker, each in its own process, sharing the machine's two cores
  // with the load generator and Redis.
  await redis.client.flushall();
  const edge = await start({ kind: "ours-inbox-express", listeners: 1 }, dist, env);
  const worker = await startWorker(dist, env);
  try {
    const redisBefore = await redisCpu(redis.client);
    const startedAt = performance.now();
    const r = await load(edge, Number(flags["e2e-seconds"]));
    const answeredAt = performance.now();
    const stored = r["2xx"];
    let handled = 0;
    while (handled < stored) {
      handled = (await ask(worker, "stats")).handled;
      if (handled < stored) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const doneAt = performance.now();
    const redisUs = (await redisCpu(redis.client)) - redisBefore;
    const edgeRate = stored / ((answeredAt - startedAt) / 1000);
    const endToEnd = stored / ((doneAt - startedAt) / 1000);
    console.log(
      `\nend to end: ${stored} deliveries stored at ${Math.round(edgeRate)}/s by the edge, all handled by the worker (concurrency ${flags.concurrency}) ` +
        `${((doneAt - answeredAt) / 1000).toFixed(1)} s after the last answer: ${Math.round(endToEnd)}/s received to listener done, ` +
        `${(endToEnd / edgeRate).toFixed(2)}× the edge's rate; Redis CPU ${Math.round(redisUs / stored)} µs per delivery (stored and run)`,
    );
  } finally {
    edge.child.kill("SIGTERM");
    worker.kill("SIGTERM");
  }
} finally {
  redis.stop();
}
process.exit(0);
