// The inbox's worker for bench/inbox.mjs, in a process of its own: runs the stored deliveries'
// listeners (one trivial listener) and tells the parent how many it has handled.
//   node bench/inbox-worker.mjs <dist> <concurrency>   (REDIS_URL, QUEUE in the environment)
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { TOKEN } from "./payloads.mjs";

const { positionals } = parseArgs({ allowPositionals: true });
const [dist, concurrency = "50"] = positionals;
const require = createRequire(import.meta.url);
const { createWebhooks } = require(join(dist, "index.js"));
const { bullmqInbox } = require(join(dist, "bullmq", "index.js"));
const { Redis } = require("ioredis");

const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
const webhooks = createWebhooks({
  providers: { crazyhorse: { secret: TOKEN } },
  inbox: bullmqInbox({ connection, queueName: process.env.QUEUE }),
});
let handled = 0;
webhooks.on("crazyhorse.done", () => {
  handled++;
});
await webhooks.startWorker({ concurrency: Number(concurrency) });
process.send?.({ ready: true });
process.on("message", (message) => {
  if (message === "stats") {
    const { user, system } = process.cpuUsage();
    process.send?.({ handled, cpu: user + system });
  }
});
process.on("disconnect", () => process.exit(0));
