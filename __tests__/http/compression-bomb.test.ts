/**
 * A compression bomb, sent before any token is checked: a gigabyte of zeros in a body of a megabyte
 * or less. Every entry stops inflating at `limit` and answers 413 at once, having spent a fraction
 * of a second and kept no more than the limit's worth of it.
 */
import { createWebhooks } from "../../lib/entries/index";
import { createWebhooks as createWebWebhooks } from "../../lib/entries/web";
import { brotliBomb, deflateBomb, gzipBomb } from "../helpers/bombs";
import { closeAll, rawRequest, setup, SECRET } from "../helpers/middleware";

const GIBIBYTE_IN_MIB = 1024;
const bombs: Record<string, Buffer> = {};
const bomb = (encoding: string): Buffer => bombs[encoding] as Buffer;

beforeAll(async () => {
  const [gzip, deflate, br] = await Promise.all([gzipBomb, deflateBomb, brotliBomb].map((make) => make(GIBIBYTE_IN_MIB)));
  Object.assign(bombs, { gzip, deflate, br });
}, 30_000);
afterEach(closeAll);
// A receiver that inflated the whole bomb would take far longer than the second asserted: it is given the time to show it.
jest.setTimeout(60_000);

/** The CPU time (every thread: zlib inflates on the thread pool) and the memory grown, while `work` runs. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; cpuMs: number; grownMb: number }> {
  const rss = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const result = await work();
  const { user, system } = process.cpuUsage(cpu);
  return { result, cpuMs: (user + system) / 1000, grownMb: (process.memoryUsage.rss() - rss) / 2 ** 20 };
}

const headers = (encoding: string) => ({ "content-type": "application/json", "content-encoding": encoding, "x-webhook-token": SECRET });

describe.each([
  ["the main entry", createWebhooks, ["gzip", "deflate", "br"]],
  ["the web entry", createWebWebhooks, ["gzip", "deflate"]],
] as const)("webhooks.fetch(), %s", (_entry, create, encodings) => {
  test.each(encodings)("a 1 GiB %s bomb is answered 413 in well under a second of CPU, and nothing is emitted", async (encoding) => {
    const body = bomb(encoding);
    const webhooks = create({ providers: { crazyhorse: { secret: SECRET } } });
    const emitted = jest.fn();
    webhooks.on("*", emitted);
    const { result, cpuMs, grownMb } = await measured(async () => {
      const answer = await webhooks.fetch(
        new Request("https://app.example/crazyhorse", { method: "POST", headers: headers(encoding), body }),
      );
      return { status: answer.status, type: ((await answer.json()) as { type: string }).type };
    });
    expect(result).toEqual({ status: 413, type: "urn:imagegen-webhooks:problem:entity.too.large" });
    expect(cpuMs).toBeLessThan(1000);
    expect(grownMb).toBeLessThan(128);
    expect(emitted).not.toHaveBeenCalled();
    await webhooks.close();
  });
});

test.each(["gzip", "deflate", "br"])("the middleware: a 1 GiB %s bomb is answered 413 in well under a second of CPU", async (encoding) => {
  const body = bomb(encoding);
  const s = await setup("bare");
  const { result, cpuMs } = await measured(() => rawRequest(s.server, "/crazyhorse", headers(encoding), body));
  expect(result.status).toBe(413);
  expect(cpuMs).toBeLessThan(1000);
  expect(s.rec.events).toEqual([]);
});
