// The Redis store against the memory store: the same Express server, one process per store,
// loaded by autocannon on loopback in alternating rounds (memory, redis, memory, redis, …) so
// that both see the same machine; the figure that matters is the ratio of their medians.
//   npm run bench:redis                       (REDIS_URL, or a throwaway redis-server on PATH)
//   npm run bench:redis -- --rounds 5 --duration 5 --connections 32
// Two scenarios: every request a new delivery (claim + complete: two round trips to Redis), and
// the same delivery again and again (a duplicate: one round trip).
import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import express from "express";
import Redis from "ioredis";
import { createWebhooks, memoryStore } from "../lib/entries/index";
import { redisStore } from "../lib/entries/redis/index";
import { startRedisServer } from "../__tests__/helpers/redis-server";

const TOKEN = "bench-token";
const PATH = `/webhooks/crazyhorse?token=${TOKEN}`;
type Store = "memory" | "redis";
type Scenario = "new" | "repeat";

/** The server half: `tsx bench/redis-store.ts serve <store> <redisUrl>`, forked by the parent. */
async function serve(store: Store, redisUrl: string): Promise<void> {
  let dedupe;
  if (store === "redis") {
    const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((resolve) => redis.once("ready", resolve));
    // Keys of its own, forgotten soon: the benchmark must not fill a shared Redis for a day.
    dedupe = redisStore(redis, { keyPrefix: `imagegen-webhooks-bench:${randomUUID()}:`, ttlMs: 10 * 60_000 });
  } else {
    dedupe = memoryStore();
  }
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, dedupe });
  webhooks.on("crazyhorse.done", () => {});
  const app = express();
  app.use("/webhooks", webhooks.middleware());
  const server = app.listen(0, "127.0.0.1", () => process.send?.({ port: (server.address() as AddressInfo).port }));
  server.keepAliveTimeout = 60_000;
  process.on("disconnect", () => process.exit(0));
}

function startServer(store: Store, redisUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(__filename, ["serve", store, redisUrl], { execArgv: ["--import", "tsx"] });
  return new Promise((resolve, reject) => {
    child.once("message", (message: { port: number }) => resolve({ child, port: message.port }));
    child.once("exit", (code) => reject(new Error(`the ${store} server exited (${code})`)));
  });
}

let sequence = 0;
function body(code: string): string {
  return JSON.stringify({
    state: "DONE",
    code,
    image: `u/${code}.png`,
    generateImageUrls: [`u/${code}/generate-1.png`],
    params: { hair: "red" },
    createdAt: "2023-10-09T11:11:07.174Z",
  });
}

async function load(port: number, scenario: Scenario, seconds: number, connections: number) {
  const repeated = body(`repeat-${randomUUID()}`);
  const headers = { "content-type": "application/json" };
  // Handled once before the load, so that every request of the run is a duplicate (not a 409 while in flight).
  if (scenario === "repeat") await fetch(`http://127.0.0.1:${port}${PATH}`, { method: "POST", headers, body: repeated });
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        path: PATH,
        headers,
        setupRequest: (request) => ({ ...request, body: scenario === "new" ? body(`b${process.pid}-${++sequence}`) : repeated }),
      },
    ],
  });
  const ok = result["2xx"];
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${result.non2xx} answers were not 2xx and ${result.errors} requests failed: the figures would be wrong`);
  }
  return { rps: ok / seconds, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "32" },
    },
  });
  const rounds = Number(flags.rounds);
  const seconds = Number(flags.duration);
  const connections = Number(flags.connections);

  const own = process.env.REDIS_URL ? undefined : await startRedisServer();
  const redisUrl = process.env.REDIS_URL ?? own!.url;
  const servers = { memory: await startServer("memory", redisUrl), redis: await startServer("redis", redisUrl) };
  try {
    console.log(
      `Node ${process.version}, Redis at ${redisUrl}, ${connections} connections, ${rounds} rounds of ${seconds} s per store and scenario\n`,
    );
    const rows: string[] = [];
    for (const scenario of ["new", "repeat"] as const) {
      for (const store of ["memory", "redis"] as const) await load(servers[store].port, scenario, Number(flags.warmup), connections);
      const figures: Record<Store, { rps: number[]; p50: number[]; p99: number[] }> = {
        memory: { rps: [], p50: [], p99: [] },
        redis: { rps: [], p50: [], p99: [] },
      };
      const ratios: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // Alternate which store goes first, so that neither always gets the quieter half of a round.
        const order: Store[] = round % 2 === 0 ? ["memory", "redis"] : ["redis", "memory"];
        const measured: Partial<Record<Store, number>> = {};
        for (const store of order) {
          const { rps, p50, p99 } = await load(servers[store].port, scenario, seconds, connections);
          figures[store].rps.push(rps);
          figures[store].p50.push(p50);
          figures[store].p99.push(p99);
          measured[store] = rps;
        }
        ratios.push(measured.redis! / measured.memory!);
        console.log(
          `${scenario} round ${round + 1}: memory ${measured.memory!.toFixed(0)} req/s, redis ${measured.redis!.toFixed(0)} req/s`,
        );
      }
      const label = scenario === "new" ? "a new delivery each request" : "the same delivery again (duplicate)";
      rows.push(
        `| ${label} | ${median(figures.memory.rps).toFixed(0)} | ${median(figures.redis.rps).toFixed(0)} | ` +
          `${median(ratios).toFixed(2)} | ${median(figures.memory.p50)} / ${median(figures.memory.p99)} | ${median(figures.redis.p50)} / ${median(figures.redis.p99)} |`,
      );
    }
    console.log(
      "\n| scenario | memory req/s | redis req/s | redis / memory (median of rounds) | memory p50 / p99 ms | redis p50 / p99 ms |",
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const row of rows) console.log(row);
  } finally {
    for (const { child } of Object.values(servers)) child.kill();
    await own?.stop();
  }
}

const [mode, store, redisUrl] = process.argv.slice(2);
(mode === "serve" ? serve(store as Store, redisUrl!) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
