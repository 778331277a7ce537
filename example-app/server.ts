import type { AddressInfo } from "node:net";
import { createDemoApp } from "./app";

const port = Number(process.env.PORT ?? 3000);
// Demo defaults so that `npm start` runs with no setup; set real secrets in the environment.
const crazyhorseSecret = process.env.CRAZYHORSE_WEBHOOK_SECRET ?? "demo-crazyhorse-secret";
const allImagesSecret = process.env.ALLIMAGES_WEBHOOK_SECRET ?? "demo-all-images-secret";

const { app, webhooks } = createDemoApp({
  crazyhorseSecret,
  allImagesSecret,
  imageBaseUrl: process.env.CRAZYHORSE_IMAGE_BASE_URL ?? "https://storage.example.com/",
});

const server = app.listen(port, () => {
  const { port: bound } = server.address() as AddressInfo;
  console.log(`imagegen-webhooks demo listening on http://localhost:${bound}`);
  console.log(`  crazyhorse: POST http://localhost:${bound}/webhooks/crazyhorse?token=${crazyhorseSecret}`);
  console.log(`  all-images: POST http://localhost:${bound}/webhooks/all-images?token=${allImagesSecret}`);
});

function shutdown(): void {
  server.close();
  void webhooks.close().then(() => process.exit(0));
}
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
