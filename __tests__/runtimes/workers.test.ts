/**
 * Cloudflare Workers: the web entry, bundled for the browser platform as wrangler would, in workerd
 * (through miniflare) without nodejs_compat, so neither node:crypto nor Buffer exists there. The
 * receiver is made at the module's top level, where Workers allow ajv to compile the schemas.
 */
import { Miniflare } from "miniflare";
import { bundle } from "./bundle";
import { expectAllowedIpsCases, expectBombRefused, expectDeliveryCases, type Send } from "./delivery-cases";

/** Runs `cases` against a Worker of `code`; `base` is prefixed to every path the cases send. */
async function inWorkerd(code: string, cases: typeof expectDeliveryCases, base: string): Promise<void> {
  const mf = new Miniflare({ modules: true, script: code, compatibilityDate: "2025-06-01" });
  try {
    const url = await mf.ready;
    const send: Send = async (path, init) => {
      const response = await mf.dispatchFetch(new URL(`${base}${path}`, url), init as never);
      return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers as unknown as Headers });
    };
    await cases(send, async () => Number(await (await mf.dispatchFetch(new URL("/events", url))).text()));
  } finally {
    await mf.dispose();
  }
}

test("a Worker serves the web entry and answers every delivery case", async () => {
  const { code } = await bundle(
    "web",
    `import { createWebhooks } from "imagegen-webhooks";
    import { makeHandler } from "./receiver";
    const handle = makeHandler(createWebhooks);
    export default {
      fetch(request) {
        if (typeof Buffer !== "undefined" || typeof process !== "undefined") return new Response("Node globals present", { status: 500 });
        return handle(request);
      },
    };`,
  );
  await inWorkerd(code, expectDeliveryCases, "/webhooks");
}, 30_000);

test("a Worker's allowedIps, with the CF-Connecting-IP header Cloudflare sets as fetch()'s `ip`", async () => {
  const { code } = await bundle(
    "web",
    `import { createWebhooks } from "imagegen-webhooks";
    import { makeAllowedIpsHandler } from "./receiver";
    const handle = makeAllowedIpsHandler(createWebhooks);
    export default {
      fetch: (request) => handle(request, request.headers.get("cf-connecting-ip") ?? undefined),
    };`,
  );
  await inWorkerd(code, expectAllowedIpsCases, "");
}, 30_000);

test("a Worker: a deflate bomb is answered 413 without being inflated", async () => {
  const { code } = await bundle(
    "web",
    `import { createWebhooks } from "imagegen-webhooks";
    import { makeHandler } from "./receiver";
    const handle = makeHandler(createWebhooks);
    export default { fetch: (request) => handle(request) };`,
  );
  await inWorkerd(code, (send) => expectBombRefused(send), "/webhooks");
}, 60_000);
