import { join } from "node:path";
import express, { type Express } from "express";
import { createWebhooks, type AnyWebhookEvent, type DedupeStore, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox, type BullmqInbox } from "imagegen-webhooks/bullmq";
import type { Redis } from "ioredis";
import pino, { type Logger } from "pino";
import { deliveriesPanel } from "./deliveries-panel";
import { redisRecords, type ApiRecords } from "./api-records";
import { FakeReplicateApi, reconcileOptions, type DemoReconcileOptions, type Prediction } from "./fake-replicate";
import { DEMO_OPENAI_SIGNING_SECRET, FakeOpenAIApi, openaiOptions, type DemoResponse } from "./fake-openai";
import { keptImages, type DemoKeptImagesOptions } from "./kept-images";
import { FLAKY_FAILURES, ListenerFaults } from "./listener-faults";
import { LiveFeed } from "./live-feed";
import { RedisSharedFeed, type FeedPublisher } from "./shared-feed";
import { METRICS_PATH, demoMetrics } from "./metrics";
import { QUEUE_BOARD_PATH, queueBoard } from "./queue-board";
import { generateRoutes } from "./generate";
import { selfUrl, simulatorRoutes } from "./simulations";
import { moreProviderOptions } from "./more-providers";
import { demoSignedProviders } from "./signed-providers";
import { DemoStorage } from "./storage-images";

/** The demo's Replicate signing secret when none is given: public, like the demo's tokens. */
export const DEMO_REPLICATE_SIGNING_SECRET = "whsec_aW1hZ2VnZW4td2ViaG9va3MgZGVtbyByZXBsaWNhdGU=";

export interface DemoOptions {
  crazyhorseSecret: string;
  allImagesSecret: string;
  /** Replicate signs its deliveries (Standard Webhooks): its `whsec_` secret. Default: the demo's. */
  replicateSigningSecret?: string;
  /** OpenAI signs too: the endpoint's `whsec_` secret. Default: the demo's. */
  openaiSigningSecret?: string;
  /** A real OpenAI API key: its images are read back from OpenAI's API rather than from the demo's fake one. */
  openaiApiKey?: string;
  /**
   * The absolute URL of this demo's `/storage/` route, as a browser reaches it: crazyhorse's
   * relative image paths are resolved against it, and simulated all-images jobs put their images there.
   */
  imageBaseUrl: string;
  /** Where the demo and the middleware log. Silent by default. */
  logger?: Logger;
  /** The dedupe store; the middleware's in-memory default when absent. */
  dedupe?: DedupeStore;
  /** Multiplies the simulated providers' delays: 1 is their pace, tests go faster. Default 1. */
  simulationTimeScale?: number;
  /**
   * Inbox mode: deliveries are stored in BullMQ over this Redis connection and a worker in this
   * process runs the listeners, with retries, the Deliveries panel and bull-board. Absent: memory.
   */
  inbox?: DemoInboxOptions;
  /** Lost final webhooks recovered from a fake Replicate API that the demo serves. Absent: no reconciliation. */
  reconcile?: DemoReconcileOptions;
  /** Images kept in a directory (`directoryImageStore`) and served at `/kept/`. Absent: not kept. */
  keepImages?: DemoKeptImagesOptions;
}

export interface DemoInboxOptions {
  /** An ioredis client made with `maxRetriesPerRequest: null`; the demo never closes it. */
  connection: Redis;
  /** Default `imagegen-webhooks-demo`. */
  queueName?: string;
  /** The wait before each retry. Default 2000, long enough to watch. */
  retryDelayMs?: number;
  /**
   * Whether a worker in this process runs the listeners. Default true; false for a web process
   * that only stores deliveries, another process's worker running them (its page still shows them).
   */
  worker?: boolean;
}

/** Runs of a delivery before it is dead: enough for the flaky outcome to succeed on its last. */
export const DEMO_ATTEMPTS = FLAKY_FAILURES + 1;

export interface DemoApp {
  app: Express;
  webhooks: Webhooks;
  /** Resolves once the inbox's worker runs and the shared feed is heard (at once in memory mode); rejects if they cannot start. */
  ready: Promise<void>;
  /** Stops the simulations, ends the live streams and closes the receiver: call it before `server.close()`. */
  close(): Promise<void>;
}

/** The demo app, apart from `listen`, so that the tests drive it as it is. */
export function createDemoApp(options: DemoOptions): DemoApp {
  const logger = options.logger ?? pino({ level: "silent" });
  const storageBase = new URL(options.imageBaseUrl);
  const replicateSigningSecret = options.replicateSigningSecret ?? DEMO_REPLICATE_SIGNING_SECRET;
  const inbox: BullmqInbox | undefined = options.inbox && demoInbox(options.inbox);
  const serveMetrics = demoMetrics();
  const recovery = options.reconcile && reconcileOptions(options.reconcile);
  const queueName = options.inbox?.queueName ?? DEMO_QUEUE_NAME;
  // With an inbox, another demo's worker or reconciler may read back a job played here: the fake APIs' jobs in Redis.
  const records = <T>(api: string): ApiRecords<T> | undefined =>
    options.inbox && redisRecords<T>(options.inbox.connection, `${queueName}:demo-${api}`);
  const replicateApi = recovery && new FakeReplicateApi(records<Prediction>("replicate-api"));
  // OpenAI's images are read back from its API: the demo fakes it at its own origin, as it fakes Replicate's.
  const openaiApi = options.reconcile && new FakeOpenAIApi(records<DemoResponse>("openai-api"));
  const openaiSigningSecret = options.openaiSigningSecret ?? DEMO_OPENAI_SIGNING_SECRET;
  // The storage's host name with no port: another demo on this machine (two processes on one Redis)
  // serves the images of the jobs clicked there, and this process's worker may be the one keeping them.
  const kept = options.keepImages && keptImages(options.keepImages, storageBase.hostname);
  const signed = demoSignedProviders();
  const webhooks = createWebhooks({
    providers: {
      crazyhorse: { secret: options.crazyhorseSecret, imageBaseUrl: storageBase.href },
      "all-images": { secret: options.allImagesSecret },
      replicate: { signature: { secret: replicateSigningSecret }, ...recovery?.replicate },
      ...moreProviderOptions(),
      ...(options.reconcile && {
        openai: options.openaiApiKey
          ? { signature: { secret: openaiSigningSecret }, apiKey: options.openaiApiKey }
          : openaiOptions(options.reconcile.origin, openaiSigningSecret),
      }),
      ...signed.options,
    },
    logger,
    ...(options.dedupe && { dedupe: options.dedupe }),
    ...(inbox && { inbox }),
    ...(recovery && { reconcile: recovery.reconcile }),
    ...(kept && { keepImages: kept.keepImages }),
  });
  const feed = new LiveFeed();
  // In inbox mode any process's worker may run a delivery: its reports go through Redis to every page.
  const shared = options.inbox && new RedisSharedFeed({ connection: options.inbox.connection, queueName, feed, logger });
  const reports: FeedPublisher = shared ?? feed;
  const storage = new DemoStorage();
  const faults = options.inbox && new ListenerFaults(options.inbox.connection, queueName);

  // First, so that an attempt it fails never reaches the page: the card shows what was handled.
  if (faults) webhooks.on("generation", faults.listener);
  webhooks.on("generation", (event) => {
    const { generation } = event;
    // An image that came as bytes (OpenAI's) has a data: URL as large as itself: not for the log.
    const images = generation.images.map((image) => (image.bytes ? `${image.bytes.byteLength} bytes` : image.url)).join(", ");
    logger.info(
      { event: event.name, delivery: event.id, generation: generation.id, status: generation.status },
      `${event.name}: generation ${generation.id} is ${generation.status}${images ? ` (${images})` : ""}` +
        (event.origin === "reconciled" ? ", recovered from the API: its final webhook never came" : ""),
    );
    const caption = captionOf(event);
    reports.publish("delivery", {
      name: event.name,
      deliveryId: event.id,
      receivedAt: event.receivedAt,
      caption,
      expectedImages: expectedImages(event),
      failure: failureOf(event),
      attempt: event.attempt,
      replayed: event.replayed,
      origin: event.origin,
      // The page shows an image's url (a data: URL for bytes); the bytes themselves would be JSON of every byte.
      generation: { ...generation, images: generation.images.map(({ bytes: _bytes, ...image }) => image) },
    });
  });
  webhooks.on("duplicate", (event) => {
    logger.info({ event: event.name, delivery: event.id }, `duplicate of ${event.name} (${event.id}): not emitted again`);
    reports.publish("duplicate", {
      name: event.name,
      deliveryId: event.id,
      provider: event.provider,
      generationId: event.generation.id,
      at: new Date(),
    });
  });
  webhooks.on("invalid", ({ provider, status, reason }) => {
    logger.warn({ provider, status, reason }, `refused a delivery to ${provider}: ${status} ${reason}`);
    reports.publish("invalid", { provider, status, reason, at: new Date() });
  });
  webhooks.on("error", (err) => {
    // The message is pino's `err` (with its cause): said once, not again in the line's own text.
    logger.error({ err, deliveryId: err.event.id }, `a listener of ${err.eventName ?? "an event"} failed`);
    const { event } = err;
    reports.publish("attempt-failed", {
      name: event.name,
      deliveryId: event.id,
      provider: event.provider,
      generationId: event.generation.id,
      attempt: event.attempt,
      message: messageOf(err.cause),
      at: new Date(),
    });
  });
  webhooks.on("image.failed", ({ event, index, url, reason, message }) => {
    logger.warn(
      { generation: event.generation.id, index, url, reason },
      `image ${index} of ${event.generation.id} not kept: ${reason}: ${message}`,
    );
    reports.publish("image-failed", {
      provider: event.provider,
      generationId: event.generation.id,
      index,
      url,
      reason,
      message,
      at: new Date(),
    });
  });
  webhooks.on("dead", ({ event, error, attempts }) => {
    logger.warn({ event: event.name, delivery: event.id, attempts }, `${event.name} (${event.id}) is dead after ${attempts} attempts`);
    reports.publish("dead", {
      name: event.name,
      key: `${event.provider}:${event.id}`,
      provider: event.provider,
      generationId: event.generation.id,
      attempts,
      message: messageOf(error),
      at: new Date(),
    });
  });

  const simulator = simulatorRoutes({
    secrets: { crazyhorse: options.crazyhorseSecret, "all-images": options.allImagesSecret },
    replicateSigningSecret,
    signers: signed.signers,
    imageBaseUrl: storageBase.href,
    timeScale: options.simulationTimeScale ?? 1,
    logger,
    ...(faults && { faults }),
    ...(replicateApi && { replicateApi }),
    // Simulated responses live in the fake API only: with a real key, OpenAI is not simulated.
    ...(openaiApi && !options.openaiApiKey && { openaiApi, openaiSigningSecret }),
  });
  // The Generate button's submit-track-wait, through the fake Replicate API (served with reconcile).
  const generator =
    replicateApi &&
    generateRoutes({
      webhooks,
      replicateApi,
      replicateSigningSecret,
      imageBaseUrl: storageBase.href,
      timeScale: options.simulationTimeScale ?? 1,
      logger,
      selfUrl,
      reports,
    });
  const panel = deliveriesPanel({ webhooks, feed, inbox: inbox !== undefined, logger });
  // One worker, one delivery at a time: a job's deliveries run in the order they arrived.
  const working = inbox && options.inbox?.worker !== false;
  const ready = inbox
    ? Promise.all([working && webhooks.startWorker({ concurrency: 1 }), shared?.ready]).then(() => undefined)
    : Promise.resolve();

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  app.get("/events", feed.stream);
  app.get(METRICS_PATH, serveMetrics);
  app.use("/storage", storage.serve);
  app.use(simulator.router);
  app.use(panel.router);
  if (replicateApi) app.use(replicateApi.router);
  if (generator) app.use(generator.router);
  if (openaiApi) app.use(openaiApi.router);
  if (kept) app.use(kept.router);
  if (inbox) app.use(QUEUE_BOARD_PATH, queueBoard(inbox));
  // Browsers ask for /favicon.ico whatever the page says: the same SVG as the page's icon.
  app.get("/favicon.ico", (_req, res) => res.type("image/svg+xml").sendFile(join(__dirname, "public", "favicon.svg")));
  app.use(express.static(join(__dirname, "public")));

  return {
    app,
    webhooks,
    ready,
    async close() {
      await simulator.close();
      await generator?.close();
      await panel.close();
      feed.close();
      // A worker still starting is closed with the rest.
      await ready.catch(() => {});
      await webhooks.close();
      shared?.close();
    },
  };
}

const DEMO_QUEUE_NAME = "imagegen-webhooks-demo";

function demoInbox({ connection, queueName = DEMO_QUEUE_NAME, retryDelayMs = 2000 }: DemoInboxOptions): BullmqInbox {
  return bullmqInbox({ connection, queueName, attempts: DEMO_ATTEMPTS, backoff: { type: "fixed", delay: retryDelayMs } });
}

/**
 * Why a failed generation failed. `generation.error` is where the package puts it, once normalized;
 * until every provider's reason is there, Replicate's own `error` field.
 */
function failureOf(event: AnyWebhookEvent): string | undefined {
  const normalized = (event.generation as { error?: unknown }).error;
  if (typeof normalized === "string" && normalized !== "") return normalized;
  if (event.provider === "replicate") {
    const { error } = event.payload as { error?: unknown };
    if (typeof error === "string" && error !== "") return error;
  }
  return undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the generation's pictures show: the prompt (all-images, Replicate), or crazyhorse's parameters. */
function captionOf({ generation }: AnyWebhookEvent): string {
  if (generation.prompt) return generation.prompt;
  const { hair, clothes, pose, background } = generation.params;
  const parts = [typeof hair === "string" ? `${hair} hair` : undefined, clothes, pose, background];
  const caption = parts.filter((part): part is string => typeof part === "string" && part.length > 0).join(", ");
  return caption || `${generation.provider} job ${generation.id}`;
}

/** How many images the job will make, so that the page can show empty slots until they arrive. */
function expectedImages(event: AnyWebhookEvent): number | undefined {
  let count: number | undefined;
  if (event.provider === "crazyhorse") count = event.payload.params?.number;
  else if (event.provider === "all-images") count = event.payload.data.nbImages;
  else if (event.provider === "replicate")
    count = (event.payload.input as { num_outputs?: unknown } | undefined)?.num_outputs as number | undefined;
  // fal.ai's one webhook carries every image.
  else if (event.provider === "fal") count = event.payload.payload?.images?.length;
  else if (event.provider === "ideogram") count = event.payload.data?.length;
  return typeof count === "number" && Number.isInteger(count) && count > 0 && count <= 16 ? count : undefined;
}
