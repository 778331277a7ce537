// One delivery cannot hold image keeping hostage: images past keepImages.maxImages are not fetched
// (image.failed, too-many), and the downloads of different deliveries take turns, so one delivery's
// slow images (a local server that sends a few bytes and then nothing) leave room for another's.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWebhooks, directoryImageStore, type AnyWebhookEvent } from "imagegen-webhooks";
import { allImagesDelivery } from "imagegen-webhooks/testing";
import { resolveKeepImages } from "../../lib/images/options";
import type { ImageKeeper } from "../../lib/images/keeper";
import { pngBytes } from "../helpers/image-server";

const png = pngBytes(20_000);
let server: Server;
let origin: string;
let host: string;
/** Paths requested, in order, and the slow downloads still open. */
let requests: string[];
let openSlow: number;
/** Whether /slow/ hangs; else it answers 404 at once (to end a test). */
let slowHangs: boolean;
let dir: string;
const keepers: ImageKeeper[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push(path);
    if (path.startsWith("/slow/") && !slowHangs) return void res.writeHead(404).end();
    if (path.startsWith("/slow/")) {
      // A few bytes, then nothing: the download waits for its timeout.
      openSlow++;
      res.on("close", () => openSlow--);
      res.writeHead(200, { "content-type": "image/png" }).write(png.subarray(0, 64));
      return;
    }
    // A short wait, so that downloads overlap and their order shows.
    setTimeout(() => res.writeHead(200, { "content-type": "image/png", "content-length": png.length }).end(png), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(async () => {
  requests = [];
  openSlow = 0;
  slowHangs = true;
  dir = await mkdtemp(join(tmpdir(), "fair-keeping-"));
});
afterEach(async () => {
  for (const keeper of keepers.splice(0)) keeper.close();
  server.closeAllConnections();
  await rm(dir, { recursive: true, force: true });
});

function keeper(options: { concurrency?: number; maxImages?: number; timeoutMs?: number } = {}): ImageKeeper {
  const made = resolveKeepImages({ store: directoryImageStore(dir), allowedHosts: [host], timeoutMs: 5000, ...options });
  keepers.push(made);
  return made;
}

let generations = 0;
function eventOf(paths: string[]): AnyWebhookEvent {
  const generation = { id: `gen-${++generations}`, status: "completed", images: paths.map((path) => ({ url: origin + path })) };
  return { provider: "crazyhorse", name: "crazyhorse.done", generation } as unknown as AnyWebhookEvent;
}

const paths = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

test("images past maxImages are not fetched and fail as too-many, whatever the attempt", async () => {
  const event = eventOf(paths("/fast/a", 5));
  const failures = await keeper({ maxImages: 3 }).keep(event, true);
  expect(failures.map(({ index, reason }) => [index, reason])).toEqual([
    [3, "too-many"],
    [4, "too-many"],
  ]);
  expect(failures[0]!.message).toMatch(/maxImages \(3\)/);
  expect(event.generation.images.map((image) => image.keptUrl !== undefined)).toEqual([true, true, true, false, false]);
  expect(requests.sort()).toEqual(["/fast/a0", "/fast/a1", "/fast/a2"]);
});

test("through the pipeline: a delivery listing many images is answered, and image.failed says too-many for those past maxImages", async () => {
  const webhooks = createWebhooks({
    providers: { "all-images": { secret: "fair-secret" } },
    keepImages: { store: directoryImageStore(dir), allowedHosts: [host], maxImages: 2 },
  });
  const failed: [number, string][] = [];
  webhooks.on("image.failed", ({ index, reason }) => void failed.push([index, reason]));
  try {
    const body = allImagesDelivery("print.completed", { data: { id: "gen-many" } });
    body.data.images = paths("/fast/g", 500).map((path, i) => ({ id: `img_${i}`, url: origin + path }));
    const answer = await webhooks.receive({
      provider: "all-images",
      headers: { "content-type": "application/json" },
      query: { token: "fair-secret" },
      rawBody: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    expect(requests).toHaveLength(2);
    expect(failed).toHaveLength(498);
    expect(failed[0]).toEqual([2, "too-many"]);
  } finally {
    await webhooks.close();
  }
});

test("maxImages is 16 unless set, and is checked at start-up", async () => {
  const event = eventOf(paths("/fast/b", 20));
  const failures = await keeper({ concurrency: 8 }).keep(event, false);
  expect(failures.map(({ index }) => index)).toEqual([16, 17, 18, 19]);
  expect(requests).toHaveLength(16);
  for (const maxImages of [0, -1, 2.5, "16"]) {
    expect(() => resolveKeepImages({ store: directoryImageStore(dir), maxImages })).toThrow(
      `keepImages.maxImages must be a positive integer, got ${JSON.stringify(maxImages)}`,
    );
  }
});

test("a second delivery's image is kept while the first's slow images are still pending", async () => {
  const slowKeeper = keeper({ concurrency: 4, timeoutMs: 4000 });
  const slow = eventOf(paths("/slow/c", 12));
  let slowSettled = false;
  const slowKept = slowKeeper.keep(slow, false).finally(() => (slowSettled = true));
  await new Promise((resolve) => setTimeout(resolve, 100));

  const startedAt = Date.now();
  const other = eventOf(["/fast/d0"]);
  expect(await slowKeeper.keep(other, false)).toEqual([]);
  expect(other.generation.images[0]!.keptUrl).toBeDefined();
  expect(Date.now() - startedAt).toBeLessThan(1000);
  expect(slowSettled).toBe(false);
  expect(openSlow).toBe(3);
  slowHangs = false;
  server.closeAllConnections();
  await slowKept;
});

test("deliveries take turns: with one download at a time, a second delivery's image is not queued behind all of the first's", async () => {
  const oneAtATime = keeper({ concurrency: 1 });
  const first = eventOf(paths("/fast/e", 4));
  const second = eventOf(paths("/fast/f", 2));
  await Promise.all([oneAtATime.keep(first, false), oneAtATime.keep(second, false)]);
  // Which delivery each download was for, in order: they alternate while both have images waiting.
  const turns = requests.map((path) => path[6]).join("");
  expect(["efefee", "fefeee"]).toContain(turns);
});
