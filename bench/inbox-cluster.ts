// The durable inbox on a Redis Cluster of three primaries with partitions: 3, against one Redis:
// deliveries stored per second (the inbox's enqueue, as the edge calls it, 64 at a time, no HTTP:
// the edge's own work is the same for both) and the Redis CPU per delivery on each shard (INFO
// cpu before and after, over the deliveries that shard stored). Rounds alternate the two, in a
// shuffled order, so that both see the same machine.
//   npx tsx bench/inbox-cluster.ts [--rounds 3] [--deliveries 20000]
// Both are throwaway redis-server processes (the cluster from __tests__/helpers/redis-cluster.ts).
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Redis, type Cluster } from "ioredis";
import { bullmqInbox, type BullmqInbox } from "../lib/entries/bullmq/index";
import type { StoredDelivery } from "../lib/entries/index";
import { clusterClient, startRedisCluster } from "../__tests__/helpers/redis-cluster";
import { startRedisServer } from "../__tests__/helpers/redis-server";
import { storedDelivery } from "../__tests__/helpers/stored-delivery";
import { partitionOf } from "../lib/inbox/bullmq/partitions";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" }, deliveries: { type: "string", default: "20000" } } });
const ROUNDS = Number(values.rounds);
const DELIVERIES = Number(values.deliveries);
const IN_FLIGHT = 64;

interface Target {
  name: "single" | "single, partitions: 3" | "cluster";
  connection: Redis | Cluster;
  /** Each primary's port, in partition order for the cluster; one Redis holds every partition. */
  ports: number[];
  partitions: number;
}

async function cpuSeconds(port: number): Promise<number> {
  const node = new Redis({ host: "127.0.0.1", port });
  const info = await node.info("cpu");
  node.disconnect();
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field("used_cpu_user") + field("used_cpu_sys");
}

function delivery(): StoredDelivery {
  const code = randomUUID().replace(/-/g, "");
  return storedDelivery(code, { images: [{ url: `https://images.example/${code}.png` }] });
}

async function drive(inbox: BullmqInbox, deliveries: StoredDelivery[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < deliveries.length) await inbox.enqueue(deliveries[next++]!);
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

async function measure(target: Target) {
  const inbox = bullmqInbox({
    connection: target.connection,
    queueName: `bench-${randomUUID().slice(0, 8)}`,
    partitions: target.partitions,
  });
  await drive(
    inbox,
    Array.from({ length: 500 }, () => delivery()),
  );
  const deliveries = Array.from({ length: DELIVERIES }, () => delivery());
  // The shard of each delivery: its partition's primary (partition i sits on the i-th primary).
  const perShard = target.ports.map(() => 0);
  for (const d of deliveries) perShard[target.ports.length === 1 ? 0 : partitionOf(d.key, target.partitions)]!++;
  const before = await Promise.all(target.ports.map(cpuSeconds));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await drive(inbox, deliveries);
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  const after = await Promise.all(target.ports.map(cpuSeconds));
  await inbox.close();
  const cpuUsPerDelivery = target.ports.map((_, i) => ((after[i]! - before[i]!) * 1e6) / (perShard[i] || 1));
  return { rate: DELIVERIES / seconds, cpuUsPerDelivery, nodeUsPerDelivery: (cpu.user + cpu.system) / DELIVERIES };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const single = await startRedisServer();
  const cluster = await startRedisCluster({ primaries: 3 });
  const singleConnection = new Redis(single.url, { maxRetriesPerRequest: null });
  const clusterConnection = clusterClient(cluster, { forBullmq: true });
  // Partition i's slot is in the i-th third: the primaries in slot order are the partitions' shards.
  const primaries = (await cluster.primaries()).sort((a, b) => a.slots[0]![0] - b.slots[0]![0]).map((p) => p.port);
  const targets: Target[] = [
    { name: "single", connection: singleConnection, ports: [single.port], partitions: 1 },
    // The same three queues on one Redis: what the split into partitions costs, apart from the cluster's own.
    { name: "single, partitions: 3", connection: singleConnection, ports: [single.port], partitions: 3 },
    { name: "cluster", connection: clusterConnection, ports: primaries, partitions: 3 },
  ];
  const results = new Map<string, { rate: number; cpuUsPerDelivery: number[]; nodeUsPerDelivery: number }[]>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = targets.map((target) => ({ target, key: Math.random() })).sort((a, b) => a.key - b.key);
      for (const { target } of order) {
        const result = await measure(target);
        results.set(target.name, [...(results.get(target.name) ?? []), result]);
        console.log(
          `round ${round + 1} ${target.name}: ${Math.round(result.rate)} deliveries/s, Redis CPU µs/delivery per shard ${result.cpuUsPerDelivery.map((us) => us.toFixed(1)).join(" ")}, this process ${result.nodeUsPerDelivery.toFixed(1)}`,
        );
      }
    }
  } finally {
    singleConnection.disconnect();
    clusterConnection.disconnect();
    await single.stop();
    await cluster.stop();
  }
  const summary = (name: string) => {
    const runs = results.get(name)!;
    const shards = runs[0]!.cpuUsPerDelivery.map((_, i) => median(runs.map((r) => r.cpuUsPerDelivery[i]!)));
    return { rate: median(runs.map((r) => r.rate)), shards, node: median(runs.map((r) => r.nodeUsPerDelivery)) };
  };
  const s = summary("single");
  const p = summary("single, partitions: 3");
  const c = summary("cluster");
  console.log(
    `\nsingle Redis: ${Math.round(s.rate)} deliveries/s; Redis CPU ${s.shards[0]!.toFixed(1)} µs per delivery, this process's ${s.node.toFixed(1)} µs`,
  );
  console.log(
    `single Redis, partitions: 3: ${Math.round(p.rate)} deliveries/s (${(p.rate / s.rate).toFixed(2)}x); Redis CPU ${p.shards[0]!.toFixed(1)} µs per delivery, this process's ${p.node.toFixed(1)} µs`,
  );
  console.log(
    `cluster, partitions: 3: ${Math.round(c.rate)} deliveries/s (${(c.rate / s.rate).toFixed(2)}x); Redis CPU per delivery on each shard ${c.shards.map((us) => `${us.toFixed(1)} µs`).join(", ")}, this process's ${c.node.toFixed(1)} µs`,
  );
  // A shard's ceiling on a core of its own is 1 s of CPU over its CPU per delivery; N such shards
  // take N times that, as long as the edges (not measured here) keep up.
  const ceiling = 1e6 / Math.max(...c.shards);
  console.log(
    `on paper: one shard on a core of its own stores up to ${Math.round(ceiling)} deliveries/s; 3 shards ${Math.round(3 * ceiling)}, N shards N x ${Math.round(ceiling)}`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
