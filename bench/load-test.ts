// Exactly-once under load, through a real HTTP server on loopback: many deliveries, a share of
// them sent again (as a provider's retries and duplicates do), many at a time, listeners with
// random delays and random failures, and a sender that retries every non-2xx the way a provider
// does. At the end every unique delivery must have been handled successfully exactly once.
//
//   npx tsx bench/load-test.ts [--deliveries 20000] [--repeats 0.3] [--concurrency 200] [--failures 0.01] [--max-delay-ms 20]
//
// The test suite runs a smaller round of the same function (__tests__/load.test.ts).
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import express from "express";
import { createWebhooks } from "../lib/entries/index";
import { allImagesDelivery, crazyhorseDelivery, sendDelivery } from "../lib/entries/testing";

export interface LoadTestOptions {
  deliveries: number;
  /** The share of sends that repeat a delivery already sent. */
  repeats: number;
  concurrency: number;
  /** The chance that one listener call fails (answered 500, so the sender retries). */
  failures: number;
  maxDelayMs: number;
}

export interface LoadTestResult {
  sends: number;
  unique: number;
  /** Every HTTP attempt, retries included, by status. */
  statuses: Record<number, number>;
  /** Unique deliveries whose listener completed successfully 0 times, or more than once. */
  lost: number;
  twice: number;
  failuresInjected: number;
  seconds: number;
}

const SECRET = "load-test-secret";
const MAX_ATTEMPTS = 50;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const { deliveries, repeats, concurrency, failures, maxDelayMs } = options;
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: SECRET } } });
  const handled = new Map<string, number>();
  let failuresInjected = 0;
  webhooks.on("*", async (event) => {
    await sleep(Math.random() * maxDelayMs);
    if (Math.random() < failures) {
      failuresInjected++;
      throw new Error("injected failure");
    }
    handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
  });
  webhooks.on("error", () => {}); // the injected failures, expected

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`;

  // The send plan: each unique delivery once, and repeats of random earlier ones, shuffled.
  const unique = Math.round(deliveries * (1 - repeats));
  const bodies = Array.from({ length: unique }, (_, i) =>
    i % 2 === 0
      ? { provider: "crazyhorse" as const, body: crazyhorseDelivery(), key: "" }
      : { provider: "all-images" as const, body: allImagesDelivery(), key: "" },
  );
  for (const b of bodies) b.key = b.provider === "crazyhorse" ? `${(b.body as { code: string }).code}:done` : (b.body as { id: string }).id;
  const plan = [...bodies, ...Array.from({ length: deliveries - unique }, () => bodies[Math.floor(Math.random() * unique)]!)];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }

  const statuses: Record<number, number> = {};
  const started = Date.now();
  let next = 0;
  async function sender(): Promise<void> {
    while (next < plan.length) {
      const { provider, body } = plan[next++]!;
      for (let attempt = 1; ; attempt++) {
        const { status } = await sendDelivery(`${base}/${provider}`, { body, secret: SECRET });
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 200 && status < 300) break;
        if (attempt === MAX_ATTEMPTS) throw new Error(`a delivery was refused ${MAX_ATTEMPTS} times, last with ${status}`);
        await sleep(Math.random() * 20 * attempt); // a provider's backoff, compressed
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, sender));
    await webhooks.close();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  const counts = bodies.map((b) => handled.get(b.key) ?? 0);
  return {
    sends: plan.length,
    unique,
    statuses,
    lost: counts.filter((n) => n === 0).length,
    twice: counts.filter((n) => n > 1).length,
    failuresInjected,
    seconds: (Date.now() - started) / 1000,
  };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      deliveries: { type: "string", default: "20000" },
      repeats: { type: "string", default: "0.3" },
      concurrency: { type: "string", default: "200" },
      failures: { type: "string", default: "0.01" },
      "max-delay-ms": { type: "string", default: "20" },
    },
  });
  runLoadTest({
    deliveries: Number(values.deliveries),
    repeats: Number(values.repeats),
    concurrency: Number(values.concurrency),
    failures: Number(values.failures),
    maxDelayMs: Number(values["max-delay-ms"]),
  }).then(
    (result) => {
      console.log(JSON.stringify(result, null, 2));
      process.exitCode = result.lost === 0 && result.twice === 0 ? 0 : 1;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
