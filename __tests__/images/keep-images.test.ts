// keepImages' downloads against a local image server: the bytes kept are the bytes served, and
// each way an image can go wrong is refused with its reason; a refused address never gets a
// connection (the server counts them).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directoryImageStore, type AnyWebhookEvent, type ImageStore } from "imagegen-webhooks";
import { resolveKeepImages } from "../../lib/images/options";
import type { ImageKeeper } from "../../lib/images/keeper";
import { startImageServer, type ImageServer } from "../helpers/image-server";

let server: ImageServer;
let dir: string;
const keepers: ImageKeeper[] = [];

beforeAll(async () => {
  server = await startImageServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "kept-images-"));
  server.connections = 0;
  server.requests.length = 0;
});
afterEach(async () => {
  for (const keeper of keepers.splice(0)) keeper.close();
  await rm(dir, { recursive: true, force: true });
});

function keeper(options: { allowed?: boolean; maxBytes?: number; timeoutMs?: number; store?: ImageStore } = {}): ImageKeeper {
  const made = resolveKeepImages({
    store: options.store ?? directoryImageStore(dir, { publicBaseUrl: "https://cdn.example.com/kept/" }),
    ...(options.allowed !== false && { allowedHosts: [server.host] }),
    ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }),
    timeoutMs: options.timeoutMs ?? 5000,
  });
  keepers.push(made);
  return made;
}

let generations = 0;
function eventOf(...urls: string[]): AnyWebhookEvent {
  const generation = { id: `gen-${++generations}`, status: "completed", images: urls.map((url) => ({ url })) };
  return { provider: "crazyhorse", name: "crazyhorse.done", generation } as unknown as AnyWebhookEvent;
}

async function failureOf(url: string, options: Parameters<typeof keeper>[0] = {}) {
  const event = eventOf(url);
  const failures = await keeper(options).keep(event, false);
  expect(event.generation.images[0]!.keptUrl).toBeUndefined();
  expect(failures).toHaveLength(1);
  return failures[0]!;
}

test("an image is stored byte for byte, with its key, size, type and public URL", async () => {
  const event = eventOf(`${server.origin}/png`);
  expect(await keeper().keep(event, false)).toEqual([]);
  const [image] = event.generation.images;
  expect(image!.kept).toEqual({
    key: expect.stringMatching(/^crazyhorse\/gen-\d+\/[0-9a-f]{32}\.png$/),
    size: server.png.length,
    contentType: "image/png",
  });
  expect(image!.keptUrl).toBe(`https://cdn.example.com/kept/${image!.kept!.key}`);
  expect((await readFile(join(dir, image!.kept!.key))).equals(server.png)).toBe(true);
});

test("kept once: the same image again, from this keeper or a new one on the same store, is not downloaded again", async () => {
  const url = `${server.origin}/png`;
  const first = eventOf(url, url);
  await keeper().keep(first, false);
  const again = { ...first, generation: { ...first.generation, images: [{ url }] } } as AnyWebhookEvent;
  await keeper().keep(again, false);
  expect(server.requests).toEqual(["/png"]);
  expect(again.generation.images[0]!.keptUrl).toBe(first.generation.images[0]!.keptUrl);
});

test("a redirect to an allowed host is followed; to a refused address, it is not", async () => {
  const event = eventOf(`${server.origin}/redirect/${encodeURIComponent("/png")}`);
  expect(await keeper().keep(event, false)).toEqual([]);
  expect(server.requests).toEqual(["/redirect/%2Fpng", "/png"]);

  const target = await startImageServer({ host: "127.0.0.2" }).catch(() => startImageServer());
  try {
    const failure = await failureOf(
      `${server.origin}/redirect/${encodeURIComponent(`https://localhost:${new URL(target.origin).port}/png`)}`,
    );
    expect(failure).toMatchObject({ reason: "refused-address", message: expect.stringContaining("localhost") });
    expect(target.connections).toBe(0);
  } finally {
    await target.close();
  }
  expect((await failureOf(`${server.origin}/loop`)).reason).toBe("http-status");
});

describe("refused without connecting", () => {
  test.each([
    ["127.0.0.1", (port: string) => `https://127.0.0.1:${port}/png`],
    ["localhost (resolves to loopback)", (port: string) => `https://localhost:${port}/png`],
    ["169.254.169.254 (metadata)", () => "https://169.254.169.254/latest/meta-data/"],
    ["10.0.0.1", () => "https://10.0.0.1/image.png"],
    ["[::1]", (port: string) => `https://[::1]:${port}/png`],
    ["[::ffff:127.0.0.1]", (port: string) => `https://[::ffff:127.0.0.1]:${port}/png`],
    ["[::ffff:0:7f00:1] (IPv4-translated)", (port: string) => `https://[::ffff:0:7f00:1]:${port}/png`],
    ["[::127.0.0.1] (IPv4-compatible)", (port: string) => `https://[::127.0.0.1]:${port}/png`],
    ["http: to a host not allowed", (port: string) => `http://127.0.0.1:${port}/png`],
  ])("%s", async (_name, url) => {
    const startedAt = Date.now();
    const failure = await failureOf(url(new URL(server.origin).port), { allowed: false });
    expect(failure.reason).toBe("refused-address");
    expect(Date.now() - startedAt).toBeLessThan(2000);
    expect(server.connections).toBe(0);
  });
});

test("too large: refused on its Content-Length, and cut at maxBytes without one", async () => {
  const declared = await failureOf(`${server.origin}/png`, { maxBytes: 100_000 });
  expect(declared).toMatchObject({ reason: "too-large", message: expect.stringContaining("200000 bytes") });
  const streamed = await failureOf(`${server.origin}/chunked-png`, { maxBytes: 100_000 });
  expect(streamed.reason).toBe("too-large");
  expect(await readdirDeep(dir)).toEqual([]);
});

test("HTML served as image/png is not an image", async () => {
  expect(await failureOf(`${server.origin}/html`)).toMatchObject({ reason: "not-an-image", message: expect.stringContaining("image/png") });
});

test("a slow server times out, and nothing is left in the store", async () => {
  expect((await failureOf(`${server.origin}/slow`, { timeoutMs: 300 })).reason).toBe("timeout");
  expect(await readdirDeep(dir)).toEqual([]);
});

test("404 and 503 are http-status failures; only the 503 may be retried", async () => {
  const missing = eventOf(`${server.origin}/status/404`);
  expect(await keeper().keep(missing, true)).toEqual([expect.objectContaining({ reason: "http-status", index: 0 })]);
  await expect(keeper().keep(eventOf(`${server.origin}/status/503`), true)).rejects.toMatchObject({
    reason: "http-status",
    transient: true,
  });
  expect((await failureOf(`${server.origin}/status/503`)).message).toContain("503");
});

test("one image failing leaves the others kept", async () => {
  const event = eventOf(`${server.origin}/status/404`, `${server.origin}/png`);
  const failures = await keeper().keep(event, false);
  expect(failures.map(({ index, url }) => [index, url])).toEqual([[0, `${server.origin}/status/404`]]);
  expect(event.generation.images[1]!.keptUrl).toBeDefined();
});

async function readdirDeep(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}
