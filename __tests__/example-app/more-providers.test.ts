// The example app simulates Leonardo.ai (its webhook key as Authorization: Bearer) and Black Forest
// Labs (X-BFL-Signature) through its own routes and the real pipeline, and keeps BFL's image, whose
// URL would expire after ten minutes, as it keeps every image when started with keepImages.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import request from "supertest";
import type { AnyWebhookEvent } from "imagegen-webhooks";
import { KEPT_PATH } from "../../example-app/kept-images";
import { bflDelivery, leonardoDelivery } from "../../lib/entries/testing";
import { serveExampleApp, type ServedExampleApp } from "../helpers/example-app";

const options = { crazyhorseSecret: "ch-secret", allImagesSecret: "ai-secret" };
const dirs: string[] = [];
const served: ServedExampleApp[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((app) => app.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function serve(keep: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "demo-kept-"));
  dirs.push(dir);
  const app = await serveExampleApp((url) => ({
    ...options,
    imageBaseUrl: `${url}/storage/`,
    simulationTimeScale: 0,
    ...(keep && { keepImages: { dir, publicBaseUrl: `${url}${KEPT_PATH}/` } }),
  }));
  served.push(app);
  const ended: AnyWebhookEvent[] = [];
  app.demo.webhooks.on("generation.completed", (event) => void ended.push(event));
  app.demo.webhooks.on("generation.failed", (event) => void ended.push(event));
  return { ...app, ended };
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test.each([
  ["leonardo", "leonardo.image_generation.complete", 4],
  ["bfl", "bfl.Ready", 1],
] as const)("%s: a simulated job is accepted by the demo's own route and completes", async (provider, name, images) => {
  const app = await serve(false);
  const started = await request(app.url).post(`/simulate/${provider}?outcome=completed`);
  expect(started.status).toBe(202);
  const id = started.body.id as string;
  await until(() => app.ended.some((event) => event.generation.id === id));
  const event = app.ended.find((e) => e.generation.id === id)!;
  expect(event.name).toBe(name);
  expect(event.generation.images).toHaveLength(images);
  const image = await fetch(event.generation.images[0]!.url);
  expect(image.status).toBe(200);
});

test("bfl: started with keepImages (as npm start does), the demo keeps its image before the event", async () => {
  const app = await serve(true);
  const id = (await request(app.url).post("/simulate/bfl?outcome=completed")).body.id as string;
  await until(() => app.ended.some((event) => event.generation.id === id));
  const [image] = app.ended.find((e) => e.generation.id === id)!.generation.images;
  expect(image?.keptUrl).toMatch(new RegExp(`^${app.url}${KEPT_PATH}/`));
  expect((await fetch(image!.keptUrl!)).status).toBe(200);
});

test("the demo's routes refuse a Leonardo delivery with a wrong key and a BFL delivery with a forged signature", async () => {
  const app = await serve(false);
  const leonardo = await request(app.url)
    .post("/webhooks/leonardo")
    .set("content-type", "application/json")
    .set("authorization", "Bearer not-the-key")
    .send(JSON.stringify(leonardoDelivery()));
  expect(leonardo.status).toBe(401);
  const bfl = await request(app.url)
    .post("/webhooks/bfl")
    .set("content-type", "application/json")
    .set("x-bfl-signature", `sha256=${"0".repeat(64)}`)
    .send(JSON.stringify(bflDelivery()));
  expect(bfl.status).toBe(401);
  expect(app.ended).toEqual([]);
});
