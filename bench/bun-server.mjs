// One benchmark server on Bun, in a process of its own (forked by run.mjs through harness.mjs with
// Bun as its runtime): it answers the same IPC questions as bench/server.mjs.
//   bun bench/bun-server.mjs <kind> <listeners> <dist>
import { createRequire } from "node:module";
import { join } from "node:path";
import { TOKEN } from "./payloads.mjs";

const { Response } = globalThis;

const [kind, listenersArg = "1", dist] = process.argv.slice(2);
const listeners = Number(listenersArg);

let handled = 0;
const count = () => {
  handled++;
};

/** The peer a Bun user would otherwise write: a route of Bun.serve that parses the JSON body and answers 200. */
function bunJson() {
  return {
    routes: {
      "/webhooks/crazyhorse": {
        POST: async (request) => {
          await request.json();
          count();
          return new Response("success");
        },
      },
    },
    fetch: () => new Response("not found", { status: 404 }),
  };
}

/** webhooks.fetch() as Bun.serve's handler, the way docs/runtimes.md shows it. */
function oursBun() {
  const { createWebhooks } = createRequire(import.meta.url)(join(dist, "index.js"));
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } } });
  webhooks.setMaxListeners(0);
  for (let i = 0; i < listeners; i++) webhooks.on("crazyhorse.done", count);
  return { fetch: (request) => webhooks.fetch(request, { basePath: "/webhooks" }) };
}

const servers = { "bun-json": bunJson, "ours-bun": oursBun };
if (!servers[kind]) throw new Error(`unknown Bun server kind ${kind}: ${Object.keys(servers).join(", ")}`);
const server = globalThis.Bun.serve({ port: 0, hostname: "127.0.0.1", ...servers[kind]() });
process.send?.({ port: server.port });
process.on("message", (message) => {
  if (message === "cpu") {
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  } else if (message === "stats") {
    globalThis.Bun.gc(true);
    process.send?.({ rss: process.memoryUsage().rss, handled });
  }
});
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => process.exit(0));
process.on("disconnect", () => process.exit(0));
