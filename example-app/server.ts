import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import pino from "pino";
import { createDemoApp, DEMO_ATTEMPTS, DEMO_REPLICATE_SIGNING_SECRET } from "./app";
import { FAKE_OPENAI_PATH } from "./fake-openai";
import { FAKE_REPLICATE_PATH } from "./fake-replicate";
import { KEPT_PATH } from "./kept-images";
import { QUEUE_BOARD_PATH } from "./queue-board";

const port = Number(process.env.PORT ?? 3000);
// Loopback unless told otherwise: the demo secrets are public. A tunnel reaches loopback too.
const host = process.env.HOST ?? "127.0.0.1";
// Demo defaults so that `npm start` runs with no setup; set real secrets in the environment.
const crazyhorseSecret = process.env.CRAZYHORSE_WEBHOOK_SECRET ?? "demo-crazyhorse-secret";
const allImagesSecret = process.env.ALLIMAGES_WEBHOOK_SECRET ?? "demo-all-images-secret";
// Replicate signs: the `whsec_` secret its API gives for your account.
const replicateSigningSecret = process.env.REPLICATE_WEBHOOK_SECRET ?? DEMO_REPLICATE_SIGNING_SECRET;
// OpenAI signs too (the endpoint's whsec_ secret); with OPENAI_API_KEY its images come from OpenAI's API, else the demo's fake.
const openaiSigningSecret = process.env.OPENAI_WEBHOOK_SECRET;
const openaiApiKey = process.env.OPENAI_API_KEY;
// Every demo on one queue shares its deliveries, its workers and its pages' feed; another name, another demo.
const queueName = process.env.INBOX_QUEUE ?? "imagegen-webhooks-demo";
// INBOX_WORKER=false: a web process only, whose deliveries another demo's worker runs.
const worker = process.env.INBOX_WORKER !== "false";
// Kept across restarts, so that a card replayed later still shows its kept copy; gitignored.
const keptDir = process.env.KEPT_IMAGES_DIR ?? join(__dirname, ".kept");
const logger = pino();

/** With REDIS_URL, the demo runs in inbox mode, BullMQ over this client. */
async function redisConnection(url: string): Promise<Redis> {
  // BullMQ's worker blocks on its connection: it needs maxRetriesPerRequest null.
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  await new Promise<void>((resolve, reject) => {
    redis.once("ready", resolve);
    redis.once("error", (err) => reject(new Error(`REDIS_URL is set but Redis cannot be reached: ${err.message}`)));
  });
  // Later outages are the inbox's to report (503s at the edge); ioredis would print each reconnection.
  redis.on("error", () => {});
  return redis;
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? await redisConnection(process.env.REDIS_URL) : undefined;
  // The app needs its own address (crazyhorse's imageBaseUrl), known once the port is bound.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const { port: bound } = server.address() as AddressInfo;
  const publicUrl = (process.env.PUBLIC_URL ?? `http://localhost:${bound}`).replace(/\/+$/, "");
  // The receiver reads the fake Replicate API on the address it listens on: loopback when that is all of them.
  const selfHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const origin = `http://${selfHost}:${bound}`;

  const demo = createDemoApp({
    crazyhorseSecret,
    allImagesSecret,
    replicateSigningSecret,
    ...(openaiSigningSecret && { openaiSigningSecret }),
    ...(openaiApiKey && { openaiApiKey }),
    imageBaseUrl: process.env.CRAZYHORSE_IMAGE_BASE_URL ?? `${publicUrl}/storage/`,
    logger,
    reconcile: { origin },
    keepImages: { dir: keptDir, publicBaseUrl: `${publicUrl}${KEPT_PATH}/` },
    ...(redis && { inbox: { connection: redis, queueName, worker } }),
  });
  await demo.ready;
  server.on("request", demo.app);

  console.log(`imagegen-webhooks demo listening on http://localhost:${bound}: open it in a browser`);
  console.log(`  crazyhorse: POST ${publicUrl}/webhooks/crazyhorse?token=${crazyhorseSecret}`);
  console.log(`  all-images: POST ${publicUrl}/webhooks/all-images?token=${allImagesSecret}`);
  console.log(`  replicate:  POST ${publicUrl}/webhooks/replicate (signed with REPLICATE_WEBHOOK_SECRET)`);
  console.log(
    `  openai:     POST ${publicUrl}/webhooks/openai (signed with OPENAI_WEBHOOK_SECRET; images read back from ${openaiApiKey ? "OpenAI's API" : `the fake API at ${origin}${FAKE_OPENAI_PATH}`})`,
  );
  console.log(
    "  leonardo, bfl, fal, ideogram: simulated on the page only (the demo's own webhook keys, and its own Ed25519 key for fal and Ideogram, stand in for the providers')",
  );
  console.log(`  images kept in ${keptDir}, served at ${publicUrl}${KEPT_PATH}/`);
  console.log(`  lost Replicate webhooks recovered from the fake API at ${origin}${FAKE_REPLICATE_PATH} (3 s of quiet, every 1 s)`);
  // The host only: a Redis URL may hold a password.
  const mode = redis
    ? `inbox (BullMQ on Redis at ${new URL(process.env.REDIS_URL as string).host}, queue ${queueName}, ${DEMO_ATTEMPTS} attempts; ` +
      `${worker ? "a worker in this process" : "no worker in this process (INBOX_WORKER=false): another demo's runs the listeners"}; ` +
      `the queue at ${publicUrl}${QUEUE_BOARD_PATH})`
    : "in memory (set REDIS_URL for the durable inbox)";
  console.log(`  mode: ${mode}`);

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
