// One instance of a load-balanced deployment, in a process of its own, for
// __tests__/generations/wait-across-processes.test.ts: Express, the webhooks middleware and the Redis store.
//   REDIS_URL=redis://… WEBHOOK_SECRET=… KEY_PREFIX=… node --import tsx __tests__/helpers/generations-instance.ts
// It prints {"port":…} on stdout once it listens; GET /handled answers, per generation id, when its
// last delivery was handled (ms since the epoch) and the metadata its event carried.
import type { AddressInfo } from "node:net";
import express from "express";
import Redis from "ioredis";
import { createWebhooks } from "../../lib/entries/index";
import { redisStore } from "../../lib/entries/redis/index";

async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  const secret = process.env.WEBHOOK_SECRET;
  if (!url || !secret) throw new Error("set REDIS_URL and WEBHOOK_SECRET");
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise<void>((resolve) => redis.once("ready", resolve));
  const webhooks = createWebhooks({
    providers: { replicate: { secret } },
    dedupe: redisStore(redis, { ...(process.env.KEY_PREFIX && { keyPrefix: process.env.KEY_PREFIX }) }),
  });
  const handled: Record<string, { at: number; metadata: unknown }> = {};
  webhooks.on("generation", (event) => {
    handled[event.generation.id] = { at: Date.now(), metadata: event.metadata };
  });

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  app.get("/handled", (_req, res) => void res.json(handled));
  const server = app.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
  process.on("SIGTERM", () => {
    server.closeAllConnections();
    server.close();
    redis.disconnect();
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
