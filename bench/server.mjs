// One benchmark server, in a process of its own (forked by run.mjs): it listens on a loopback
// port, tells the parent which, and serves until killed.
//   node bench/server.mjs <kind> <listeners> <dist>
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import express from "express";
import { Webhooks, createNodeMiddleware } from "@octokit/webhooks";
import { installOtel } from "./otel.mjs";
import { OCTOKIT_SECRET, TOKEN } from "./payloads.mjs";

const { positionals } = parseArgs({ allowPositionals: true });
const [kind, listenersArg = "1", dist] = positionals;
const listeners = Number(listenersArg);

let handled = 0;
const count = () => {
  handled++;
};

function oursWebhooks() {
  // BENCH_OTEL=<a build's directory>: that build runs with an OpenTelemetry SDK, the others without.
  if (process.env.BENCH_OTEL && resolve(process.env.BENCH_OTEL) === resolve(dist)) installOtel();
  const { createWebhooks } = createRequire(import.meta.url)(join(dist, "index.js"));
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } } });
  webhooks.setMaxListeners(0);
  for (let i = 0; i < listeners; i++) webhooks.on("crazyhorse.done", count);
  return webhooks;
}

function ours() {
  return oursWebhooks().middleware();
}

/** webhooks.fetch() on node:http, bridged by @hono/node-server as a Node app on another framework would be. */
function oursFetch() {
  const { getRequestListener } = createRequire(import.meta.url)("@hono/node-server");
  const webhooks = oursWebhooks();
  return getRequestListener((request) => webhooks.fetch(request, { basePath: "/webhooks" }));
}

/** A Hono app on @hono/node-server: `mount` adds its routes, as docs/runtimes.md shows them. */
function honoApp(mount) {
  const require = createRequire(import.meta.url);
  const { Hono } = require("hono");
  const { getRequestListener } = require("@hono/node-server");
  const app = new Hono();
  mount(app);
  return getRequestListener(app.fetch);
}

/** webhooks.fetch() mounted in a Hono app, the way docs/runtimes.md shows it. */
function oursHono() {
  const webhooks = oursWebhooks();
  return honoApp((app) => app.all("/webhooks/*", (c) => webhooks.fetch(c.req.raw, { basePath: "/webhooks" })));
}

/** The peer a Hono user would otherwise write: a route that parses the JSON body and answers 200. */
function honoJson() {
  return honoApp((app) =>
    app.post("/webhooks/crazyhorse", async (c) => {
      await c.req.json();
      count();
      return c.text("success");
    }),
  );
}

/** The edge of the durable inbox: each delivery stored in BullMQ (REDIS_URL, QUEUE) before the answer. */
function oursInbox() {
  const require = createRequire(import.meta.url);
  const { createWebhooks } = require(join(dist, "index.js"));
  const { bullmqInbox } = require(join(dist, "bullmq", "index.js"));
  const { Redis } = require("ioredis");
  const connection = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
  const inbox = bullmqInbox({ connection, queueName: process.env.QUEUE });
  return createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, inbox }).middleware();
}

/**
 * The hand-written durable handler, for comparison with the inbox's edge: express.json(), then
 * BullMQ's Queue.add with the delivery's id as the job id, and the answer once it is stored. No
 * signature, schema or duplicate answer: the least a handler on BullMQ does.
 */
function expressBullmq() {
  const { Queue } = createRequire(import.meta.url)("bullmq");
  const { Redis } = createRequire(import.meta.url)("ioredis");
  const queue = new Queue(`${process.env.QUEUE}-by-hand`, { connection: new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null }) });
  return expressApp((app) => {
    app.use(express.json());
    app.post("/webhooks/crazyhorse", (req, res, next) => {
      queue.add("crazyhorse.done", req.body, { jobId: `crazyhorse%3A${req.body.code}`, attempts: 8 }).then(() => {
        count();
        res.send("success");
      }, next);
    });
  });
}

function octokit() {
  const webhooks = new Webhooks({ secret: OCTOKIT_SECRET });
  for (let i = 0; i < listeners; i++) webhooks.on("push", count);
  return createNodeMiddleware(webhooks, { path: "/webhooks/github" });
}

/** The floor: what node:http costs with a body read and parsed, and nothing else. */
function bareJson(req, res) {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    count();
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
    res.end("success");
  });
}

function expressApp(mount) {
  const app = express();
  mount(app);
  return app;
}

const servers = {
  "node-json": () => createServer(bareJson),
  "express-json": () =>
    createServer(
      expressApp((app) => {
        app.use(express.json());
        app.post("/webhooks/crazyhorse", (req, res) => {
          count();
          res.send("success");
        });
      }),
    ),
  // What a middleware that skips everything it does not need can reach inside Express: the
  // floor for this package there (the issue measured it 1.3x the express.json() route).
  "express-lean": () => createServer(expressApp((app) => app.use("/webhooks/crazyhorse", bareJson))),
  "ours-express": () => createServer(expressApp((app) => app.use("/webhooks", ours()))),
  "ours-node": () => createServer(ours()),
  "ours-fetch-node": () => createServer(oursFetch()),
  "ours-hono": () => createServer(oursHono()),
  "hono-json": () => createServer(honoJson()),
  "ours-inbox-express": () => createServer(expressApp((app) => app.use("/webhooks", oursInbox()))),
  "express-bullmq": () => createServer(expressBullmq()),
  "octokit-express": () => createServer(expressApp((app) => app.use(octokit()))),
  "octokit-node": () => createServer(octokit()),
};

if (!servers[kind]) throw new Error(`unknown server kind ${kind}: ${Object.keys(servers).join(", ")}`);
const server = servers[kind]();
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
});
process.on("message", (message) => {
  if (message === "cpu") {
    // The server's CPU time: what each request costs it, far steadier than req/s on a shared machine.
    const { user, system } = process.cpuUsage();
    process.send?.({ cpu: user + system });
  } else if (message === "stats") {
    globalThis.gc?.();
    process.send?.({ rss: process.memoryUsage().rss, handled });
  }
});
// --cpu-prof writes its profile on a normal exit, so a signal ends the process through exit().
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close() && process.exit(0));
process.on("disconnect", () => process.exit(0));
