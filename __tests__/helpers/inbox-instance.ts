// One process of an inbox deployment, for __tests__/inbox/durability.test.ts: an edge (Express and
// the webhooks middleware storing into BullMQ), a worker, or both, as ROLE says.
//   REDIS_URL=… QUEUE=… ROLE=edge|worker|both WEBHOOK_SECRET=… node --import tsx __tests__/helpers/inbox-instance.ts
// It prints {"port":…} (0 for a worker alone) once it is ready. Each listener run is recorded in
// Redis, on a connection of its own: RPUSH <QUEUE>:started and <QUEUE>:done "<id>|<attempt>|<pid>".
// On a Redis Cluster: CLUSTER_NODES=127.0.0.1:7000,… instead of REDIS_URL, with PARTITIONS=n and
// WAIT_REPLICAS=n (the inbox's waitForReplicas) if wanted.
import type { AddressInfo } from "node:net";
import express from "express";
import { Cluster, Redis } from "ioredis";
import { createWebhooks } from "../../lib/entries/index";
import { bullmqInbox } from "../../lib/entries/bullmq/index";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { REDIS_URL: url, CLUSTER_NODES: nodes, QUEUE: queueName, ROLE: role = "both", WEBHOOK_SECRET: secret } = process.env;
  if ((!url && !nodes) || !queueName || !secret) throw new Error("set REDIS_URL (or CLUSTER_NODES), QUEUE and WEBHOOK_SECRET");
  const listenerMs = Number(process.env.LISTENER_MS ?? 0);
  // Quick reconnects, so that the test's Redis outage stays short.
  const retryStrategy = (attempt: number) => Math.min(attempt * 50, 500);
  const connect = (): Redis | Cluster =>
    nodes
      ? new Cluster(
          nodes.split(",").map((node) => ({ host: "127.0.0.1", port: Number(node.split(":")[1]) })),
          { redisOptions: { maxRetriesPerRequest: null }, clusterRetryStrategy: retryStrategy },
        )
      : new Redis(url as string, { maxRetriesPerRequest: null, retryStrategy });
  const connection = connect();
  const record = connect();
  for (const client of [connection, record]) client.on("error", () => {}); // the outage is expected

  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret } },
    inbox: bullmqInbox({
      connection,
      queueName,
      attempts: 5,
      backoff: { type: "fixed", delay: 100 },
      lockDurationMs: Number(process.env.LOCK_MS ?? 30_000),
      enqueueTimeoutMs: 1000,
      ...(process.env.PARTITIONS && { partitions: Number(process.env.PARTITIONS) }),
      ...(process.env.WAIT_REPLICAS && { waitForReplicas: { replicas: Number(process.env.WAIT_REPLICAS), timeoutMs: 500 } }),
    }),
  });
  webhooks.on("generation", async (event) => {
    const entry = `${event.id}|${event.attempt}|${process.pid}`;
    await record.rpush(`${queueName}:started`, entry);
    if (listenerMs > 0) await sleep(listenerMs);
    await record.rpush(`${queueName}:done`, entry);
  });

  if (role === "worker" || role === "both") await webhooks.startWorker({ concurrency: Number(process.env.CONCURRENCY ?? 10) });
  let port = 0;
  if (role === "edge" || role === "both") {
    const app = express();
    app.use("/webhooks", webhooks.middleware());
    const server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    port = (server.address() as AddressInfo).port;
    process.on("SIGTERM", () => void webhooks.close().then(() => server.close(() => process.exit(0))));
  } else {
    process.on("SIGTERM", () => void webhooks.close().then(() => process.exit(0)));
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
