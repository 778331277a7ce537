import { join } from "node:path";
import express, { type Express } from "express";
import { createWebhooks, type AnyWebhookEvent, type DedupeStore, type Webhooks } from "imagegen-webhooks";
import pino, { type Logger } from "pino";
import { LiveFeed } from "./live-feed";
import { simulatorRoutes } from "./simulations";
import { DemoStorage } from "./storage-images";

/** The demo's Replicate signing secret when none is given: public, like the demo's tokens. */
export const DEMO_REPLICATE_SIGNING_SECRET = "whsec_aW1hZ2VnZW4td2ViaG9va3MgZGVtbyByZXBsaWNhdGU=";

export interface DemoOptions {
  crazyhorseSecret: string;
  allImagesSecret: string;
  /** Replicate signs its deliveries (Standard Webhooks): its `whsec_` secret. Default: the demo's. */
  replicateSigningSecret?: string;
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
}

export interface DemoApp {
  app: Express;
  webhooks: Webhooks;
  /** Stops the simulations, ends the live streams and closes the receiver: call it before `server.close()`. */
  close(): Promise<void>;
}

/** The demo app, apart from `listen`, so that the tests drive it as it is. */
export function createDemoApp(options: DemoOptions): DemoApp {
  const logger = options.logger ?? pino({ level: "silent" });
  const storageBase = new URL(options.imageBaseUrl);
  const replicateSigningSecret = options.replicateSigningSecret ?? DEMO_REPLICATE_SIGNING_SECRET;
  const webhooks = createWebhooks({
    providers: {
      crazyhorse: { secret: options.crazyhorseSecret, imageBaseUrl: storageBase.href },
      "all-images": { secret: options.allImagesSecret },
      replicate: { signature: { secret: replicateSigningSecret } },
    },
    logger,
    ...(options.dedupe && { dedupe: options.dedupe }),
  });
  const feed = new LiveFeed();
  const storage = new DemoStorage();

  webhooks.on("generation", (event) => {
    const { generation } = event;
    const images = generation.images.map((image) => image.url).join(", ");
    logger.info(
      { event: event.name, delivery: event.id, generation: generation.id, status: generation.status },
      `${event.name}: generation ${generation.id} is ${generation.status}${images ? ` (${images})` : ""}`,
    );
    const caption = captionOf(event);
    for (const image of generation.images) {
      const path = storagePath(image.url, storageBase);
      if (path !== undefined) storage.caption(path, caption);
    }
    feed.publish("delivery", {
      name: event.name,
      deliveryId: event.id,
      receivedAt: event.receivedAt,
      caption,
      expectedImages: expectedImages(event),
      generation,
    });
  });
  webhooks.on("duplicate", (event) => {
    logger.info({ event: event.name, delivery: event.id }, `duplicate of ${event.name} (${event.id}): not emitted again`);
    feed.publish("duplicate", {
      name: event.name,
      deliveryId: event.id,
      provider: event.provider,
      generationId: event.generation.id,
      at: new Date(),
    });
  });
  webhooks.on("invalid", ({ provider, status, reason }) => {
    logger.warn({ provider, status, reason }, `refused a delivery to ${provider}: ${status} ${reason}`);
    feed.publish("invalid", { provider, status, reason, at: new Date() });
  });
  webhooks.on("error", (err) => logger.error({ err }, `a listener failed: ${err.message}`));

  const simulator = simulatorRoutes({
    secrets: { crazyhorse: options.crazyhorseSecret, "all-images": options.allImagesSecret },
    replicateSigningSecret,
    imageBaseUrl: storageBase.href,
    timeScale: options.simulationTimeScale ?? 1,
    logger,
  });

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  app.get("/events", feed.stream);
  app.use("/storage", storage.serve);
  app.use(simulator.router);
  app.use(express.static(join(__dirname, "public")));

  return {
    app,
    webhooks,
    async close() {
      await simulator.close();
      feed.close();
      await webhooks.close();
    },
  };
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
  return typeof count === "number" && Number.isInteger(count) && count > 0 && count <= 16 ? count : undefined;
}

/** The path of an image URL below the demo's storage route, if it is one of ours. */
function storagePath(url: string, base: URL): string | undefined {
  return url.startsWith(base.href) ? url.slice(base.href.length) : undefined;
}
