import express, { type Express } from "express";
import { createWebhooks, type Webhooks } from "imagegen-webhooks";

export interface DemoOptions {
  crazyhorseSecret: string;
  allImagesSecret: string;
  /** Where crazyhorse's relative image paths are resolved. */
  imageBaseUrl: string;
  /** Where each event is written; the console by default. */
  log?: (line: string) => void;
}

/** The demo app, apart from `listen`, so that the tests drive it as it is. */
export function createDemoApp(options: DemoOptions): { app: Express; webhooks: Webhooks } {
  const log = options.log ?? ((line: string) => console.log(line));
  const webhooks = createWebhooks({
    providers: {
      crazyhorse: { secret: options.crazyhorseSecret, imageBaseUrl: options.imageBaseUrl },
      "all-images": { secret: options.allImagesSecret },
    },
  });

  webhooks.on("*", (event) => {
    const { generation } = event;
    const images = generation.images.map((image) => image.url).join(", ");
    log(`${event.name}: generation ${generation.id} is ${generation.status}${images ? ` (${images})` : ""}`);
  });
  webhooks.on("duplicate", (event) => log(`duplicate of ${event.name} (${event.id}): not emitted again`));
  webhooks.on("invalid", ({ provider, status, reason }) => log(`refused a delivery to ${provider}: ${status} ${reason}`));
  webhooks.on("error", (err) => log(`a listener failed: ${err.message}`));

  const app = express();
  app.use("/webhooks", webhooks.middleware());
  app.get("/", (_req, res) => {
    res.type("text/plain").send(
      "imagegen-webhooks demo\n\n" +
        "POST /webhooks/crazyhorse?token=<secret>   crazyhorse.ai deliveries\n" +
        "POST /webhooks/all-images?token=<secret>   all-images.ai deliveries\n\n" +
        "Each accepted delivery is logged by the server.\n",
    );
  });
  return { app, webhooks };
}
