import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { DedupeStore } from "imagegen-webhooks";
import pino from "pino";
import { createDemoApp, DEMO_REPLICATE_SIGNING_SECRET } from "./app";

const port = Number(process.env.PORT ?? 3000);
// Loopback unless told otherwise: the demo secrets are public. A tunnel reaches loopback too.
const host = process.env.HOST ?? "127.0.0.1";
// Demo defaults so that `npm start` runs with no setup; set real secrets in the environment.
const crazyhorseSecret = process.env.CRAZYHORSE_WEBHOOK_SECRET ?? "demo-crazyhorse-secret";
const allImagesSecret = process.env.ALLIMAGES_WEBHOOK_SECRET ?? "demo-all-images-secret";
// Replicate signs: the `whsec_` secret its API gives for your account.
const replicateSigningSecret = process.env.REPLICATE_WEBHOOK_SECRET ?? DEMO_REPLICATE_SIGNING_SECRET;
const logger = pino();

/** With REDIS_URL, several demo instances share their dedupe keys; ioredis loads only then. */
async function redisDedupe(url: string): Promise<{ store: DedupeStore; quit: () => Promise<unknown> }> {
  const [{ Redis }, { redisStore }] = await Promise.all([import("ioredis"), import("imagegen-webhooks/redis")]);
  // Fail fast while Redis is away (the store answers 503 and the provider retries) rather than queue commands.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await new Promise<void>((resolve, reject) => {
    redis.once("ready", resolve);
    redis.once("error", (err) => reject(new Error(`REDIS_URL is set but Redis cannot be reached: ${err.message}`)));
  });
  return { store: redisStore(redis, { keyPrefix: "imagegen-webhooks-demo:" }), quit: () => redis.quit() };
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? await redisDedupe(process.env.REDIS_URL) : undefined;
  // The app needs its own address (crazyhorse's imageBaseUrl), known once the port is bound.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${bound}`).replace(/\/+$/, "");

  const demo = createDemoApp({
    crazyhorseSecret,
    allImagesSecret,
    replicateSigningSecret,
    imageBaseUrl: process.env.CRAZYHORSE_IMAGE_BASE_URL ?? `${publicUrl}/storage/`,
    logger,
    ...(redis && { dedupe: redis.store }),
  });
  server.on("request", demo.app);

  console.log(`imagegen-webhooks demo listening on http://localhost:${bound}: open it in a browser`);
  console.log(`  crazyhorse: POST ${publicUrl}/webhooks/crazyhorse?token=${crazyhorseSecret}`);
  console.log(`  all-images: POST ${publicUrl}/webhooks/all-images?token=${allImagesSecret}`);
  console.log(`  replicate:  POST ${publicUrl}/webhooks/replicate (signed with REPLICATE_WEBHOOK_SECRET)`);
  // The host only: a Redis URL may hold a password.
  console.log(`  dedupe: ${redis ? `Redis at ${new URL(process.env.REDIS_URL as string).host}` : "in memory"}`);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    void demo
      .close()
      .then(() => redis?.quit())
      .finally(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((err: unknown) => {
  logger.fatal({ err }, "the demo could not start");
  process.exit(1);
});
