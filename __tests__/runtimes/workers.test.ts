/**
 * Cloudflare Workers: the web entry, bundled for the browser platform as wrangler would, in workerd
 * (through miniflare) without nodejs_compat, so neither node:crypto nor Buffer exists there. The
 * receiver is made at the module's top level, where Workers allow ajv to compile the schemas.
 */
import { Miniflare } from "miniflare";
import { bundle } from "./bundle";
import { expectDeliveryCases } from "./delivery-cases";

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
  const mf = new Miniflare({ modules: true, script: code, compatibilityDate: "2025-06-01" });
  try {
    const url = await mf.ready;
    const send = async (path: string, init?: RequestInit) => {
      const response = await mf.dispatchFetch(new URL(`/webhooks${path}`, url), init as never);
      return new Response(await response.arrayBuffer(), { status: response.status, headers: response.headers as unknown as Headers });
    };
    await expectDeliveryCases(send, async () => Number(await (await mf.dispatchFetch(new URL("/events", url))).text()));
  } finally {
    await mf.dispose();
  }
}, 30_000);
