// A throwaway Redis Cluster from redis-server processes, for the tests (and the benchmark) that run
// the inbox and the stores on a cluster: each node a `--cluster-enabled yes` process on a free
// loopback port with a data directory of its own under one temporary directory, joined with
// `redis-cli --cluster create`. Each test file starts its own, so files may run side by side.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster, Redis } from "ioredis";
import { startRedisServer, type RedisServer } from "./redis-server";

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Primaries, each owning a third (for three) of the 16384 slots. Default 3. */
  primaries?: number;
  /** Replicas per primary (`--cluster-replicas`). Default 0. */
  replicas?: number;
  /**
   * How long a node may be unreachable before the others count it failed and a replica takes over
   * (`cluster-node-timeout`). Default 1000: a failover within seconds, for the tests.
   */
  nodeTimeoutMs?: number;
}

export interface ClusterNode {
  readonly port: number;
  readonly server: RedisServer;
}

export interface RedisCluster {
  readonly nodes: ClusterNode[];
  /** The startup nodes for `new Cluster(…)`. */
  readonly startupNodes: { host: string; port: number }[];
  /** A client of its own on one node (not cluster-aware), for CLUSTER and DBSIZE. */
  direct(port: number): Redis;
  /** The ports of the nodes that are primaries now, each with the slot ranges it serves. */
  primaries(): Promise<{ port: number; slots: [number, number][] }[]>;
  /**
   * Waits until every live node answers `cluster_state:ok` and sees as many primaries serving slots
   * as the cluster was made with, each of them alive: after a primary is killed, until a replica has
   * taken over.
   */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** Waits until every live replica has synced with its primary. */
  waitUntilReplicasSynced(): Promise<void>;
  /** Kills every node and removes the temporary directory. */
  stop(): Promise<void>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const { primaries: primaryCount = 3, replicas = 0, nodeTimeoutMs = 1000 } = options;
  const root = mkdtempSync(join(tmpdir(), "imagegen-webhooks-cluster-"));
  const nodes: ClusterNode[] = [];
  const clients = new Set<Redis>();
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(nodes.map((node) => node.server.stop()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < primaryCount * (1 + replicas); i++) {
      const dir = join(root, `node-${i}`);
      mkdirSync(dir);
      const server = await startRedisServer({
        dir,
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          join(dir, "nodes.conf"),
          "--cluster-node-timeout",
          String(nodeTimeoutMs),
          // A replica takes over however long it lost its primary: these tests kill primaries on purpose.
          "--cluster-replica-validity-factor",
          "0",
          // A replica's sync starts at once, not after Redis's default 5 s wait for more replicas.
          "--repl-diskless-sync-delay",
          "0",
        ],
      });
      nodes.push({ port: server.port, server });
    }
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map((node) => `127.0.0.1:${node.port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
  } catch (err) {
    await stop();
    throw err;
  }

  const direct = (port: number): Redis => {
    const client = new Redis({ host: "127.0.0.1", port, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
    client.on("error", () => {});
    clients.add(client);
    return client;
  };
  const alive = () => nodes.filter((node) => node.server.alive());

  const cluster: RedisCluster = {
    nodes,
    startupNodes: nodes.map((node) => ({ host: "127.0.0.1", port: node.port })),
    direct,
    async primaries() {
      const [node] = alive();
      if (!node) throw new Error("no cluster node is alive");
      const client = direct(node.port);
      try {
        const shards = (await client.call("CLUSTER", "SLOTS")) as [number, number, [string, number, string]][];
        const byPort = new Map<number, [number, number][]>();
        for (const [from, to, [, port]] of shards) byPort.set(port, [...(byPort.get(port) ?? []), [from, to]]);
        return [...byPort].map(([port, slots]) => ({ port, slots }));
      } finally {
        client.disconnect();
        clients.delete(client);
      }
    },
    async waitUntilHealthy(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const livePorts = new Set(alive().map((node) => node.port));
        const views = await Promise.all(
          alive().map(async ({ port }) => {
            const client = direct(port);
            try {
              const info = String(await client.call("CLUSTER", "INFO"));
              const table = String(await client.call("CLUSTER", "NODES"));
              // <id> <address> <flags> <primary> <ping> <pong> <epoch> <link> <slot>…: primaries that serve slots and are not failed.
              const serving = table
                .split("\n")
                .map((line) => line.trim().split(" "))
                .filter((fields) => fields.length > 8 && /master/.test(fields[2] ?? "") && !/fail/.test(fields[2] ?? ""));
              // A killed primary still serves its slots in the others' view until they count it failed.
              const live = serving.every((fields) => livePorts.has(Number((fields[1] ?? "").split(/[:@]/)[1])));
              return info.includes("cluster_state:ok") && live ? serving.length : -1;
            } catch {
              return -1;
            } finally {
              client.disconnect();
              clients.delete(client);
            }
          }),
        );
        if (views.every((primaries) => primaries === primaryCount)) return;
        if (Date.now() > deadline) throw new Error(`the cluster did not become healthy within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    waitUntilReplicasSynced: () => waitForReplicas(alive(), direct),
    stop,
  };
  await cluster.waitUntilHealthy();
  if (replicas > 0) await cluster.waitUntilReplicasSynced();
  return cluster;
}

/** Every replica has finished its first sync, so that a primary killed now has one ready to take over. */
async function waitForReplicas(nodes: ClusterNode[], direct: (port: number) => Redis): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const { port } of nodes) {
    const client = direct(port);
    try {
      for (;;) {
        const info = await client.info("replication");
        if (info.includes("role:master") || info.includes("master_link_status:up")) break;
        if (Date.now() > deadline) throw new Error(`the replica on port ${port} did not sync within 20 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      client.disconnect();
    }
  }
}

/** A cluster client for the tests: `maxRetriesPerRequest: null` for BullMQ, quick reconnections. */
export function clusterClient(cluster: RedisCluster, options: { forBullmq?: boolean } = {}): Cluster {
  const client = new Cluster(cluster.startupNodes, {
    redisOptions: { ...(options.forBullmq && { maxRetriesPerRequest: null }) },
    clusterRetryStrategy: (attempt) => Math.min(attempt * 50, 500),
  });
  client.on("error", () => {});
  return client;
}
