// keepImages' throughput and memory: 200 images of 5 MB each, downloaded from a local server and
// written to a directory store with concurrency 4. Peak RSS must stay near the baseline plus the
// stream buffers, whatever the image size: an image is never held whole.
//   npm run bench:images   (IMAGES=…, MB=…, CONCURRENCY=… to vary it)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directoryImageStore, type AnyWebhookEvent } from "../lib/entries/index";
import { resolveKeepImages } from "../lib/images/options";
import { pngBytes, startImageServer } from "../__tests__/helpers/image-server";

const IMAGES = Number(process.env.IMAGES ?? 200);
const MB = Number(process.env.MB ?? 5);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 4);

async function main(): Promise<void> {
  const server = await startImageServer({ png: pngBytes(MB * 1024 * 1024) });
  const dir = await mkdtemp(join(tmpdir(), "bench-kept-"));
  const keeper = resolveKeepImages({
    store: directoryImageStore(dir),
    allowedHosts: [server.host],
    concurrency: CONCURRENCY,
    maxBytes: (MB + 1) * 1024 * 1024,
  });
  // Each image its own URL, in generations of 4, as a provider sends them.
  const events = Array.from({ length: IMAGES / 4 }, (_, g) => ({
    provider: "replicate",
    generation: {
      id: `bench-${g}`,
      status: "completed",
      images: [0, 1, 2, 3].map((i) => ({ url: `${server.origin}/chunked-png?${g}-${i}` })),
    },
  })) as unknown as AnyWebhookEvent[];

  globalThis.gc?.();
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const startedAt = performance.now();
  const failures = (await Promise.all(events.map((event) => keeper.keep(event)))).flat();
  const seconds = (performance.now() - startedAt) / 1000;
  clearInterval(sampler);

  keeper.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
  if (failures.length > 0) throw new Error(`${failures.length} images not kept: ${failures[0]!.message}`);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  console.log(
    `kept ${IMAGES} images of ${MB} MB, concurrency ${CONCURRENCY}: ${seconds.toFixed(2)} s, ` +
      `${(IMAGES / seconds).toFixed(1)} images/s, ${((IMAGES * MB) / seconds).toFixed(0)} MB/s; ` +
      `RSS ${mib(baseline)} before, peak ${mib(peak)} (+${mib(peak - baseline)})`,
  );
}

void main();
