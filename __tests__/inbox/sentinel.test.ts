// The durable inbox on a Sentinel-backed Redis: a primary, its replica and a Sentinel watching them
// (three redis-server processes of this file's own). The user passes `new Redis({ sentinels, name })`,
// and the inbox keeps working across a failover: with waitForReplicas, the deliveries stored before
// it complete, and the deliveries stored after it land on the new primary.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { bullmqInbox, type BullmqInbox } from "imagegen-webhooks/bullmq";
import { startRedisServer, type RedisServer } from "../helpers/redis-server";
import { startRedisSentinel, type RedisSentinel } from "../helpers/redis-sentinel";
import { storedDelivery } from "../helpers/stored-delivery";

jest.setTimeout(90_000);

let primary: RedisServer;
let replica: RedisServer;
let sentinel: RedisSentinel;
const clients: Redis[] = [];
const inboxes: BullmqInbox[] = [];

beforeAll(async () => {
  primary = await startRedisServer();
  replica = await startRedisServer({ args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  sentinel = await startRedisSentinel(primary.port);
  // The replica has finished its first sync (until then WAIT counts it out).
  const direct = new Redis(primary.url);
  clients.push(direct);
  await until(async () => /slave0:.*state=online/.test(await direct.info("replication")), "the replica's first sync");
});

afterAll(async () => {
  await Promise.all(inboxes.map((box) => box.close()));
  for (const client of clients) client.disconnect();
  await sentinel?.stop();
  await Promise.all([primary?.stop(), replica?.stop()]);
});

function sentinelClient(options: { maxRetriesPerRequest?: null } = { maxRetriesPerRequest: null }): Redis {
  const client = new Redis({ sentinels: [{ host: "127.0.0.1", port: sentinel.port }], name: sentinel.name, ...options });
  clients.push(client);
  return client;
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test("a Sentinel-backed client without maxRetriesPerRequest: null is refused at start-up, as a plain one is", () => {
  const client = sentinelClient({});
  expect(() => bullmqInbox({ connection: client })).toThrow(/maxRetriesPerRequest: null/);
});

test("deliveries stored through Sentinel with waitForReplicas survive a failover: those queued before it complete on the new primary, and new ones are stored there", async () => {
  const queueName = `sentinel-${randomUUID().slice(0, 8)}`;
  // waitForReplicas: an enqueue answers only once the replica has the delivery, so that the failover
  // (to that replica) cannot lose one that was acknowledged.
  const box = bullmqInbox({ connection: sentinelClient(), queueName, enqueueTimeoutMs: 10_000, waitForReplicas: { replicas: 1 } });
  inboxes.push(box);

  // Stored while no worker runs: they are still queued when the primary changes.
  const before = Array.from({ length: 50 }, () => storedDelivery());
  for (const d of before) expect(await box.enqueue(d)).toBe("stored");
  expect(await sentinel.primary()).toEqual({ host: "127.0.0.1", port: primary.port });

  await sentinel.failover();
  await until(async () => (await sentinel.primary()).port === replica.port, "Sentinel to name the replica as primary");

  const handled = new Set<string>();
  await box.startWorker(async (d) => {
    handled.add(d.key);
  }, {});

  // An enqueue while the client follows the switch may be refused, which the edge answers 503 and
  // the provider retries: never a 2xx without the delivery stored.
  const after = Array.from({ length: 50 }, () => storedDelivery());
  for (const d of after) {
    for (let tries = 0; ; tries++) {
      const stored = await box.enqueue(d).then(
        (answer) => answer,
        (err: unknown) => {
          if (tries > 100) throw err;
          return undefined;
        },
      );
      if (stored) {
        expect(["stored", "duplicate"]).toContain(stored);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await until(() => [...before, ...after].every((d) => handled.has(d.key)), "every delivery to be handled");
  expect(handled.size).toBe(100);

  // The former replica is the primary now, and holds every delivery as completed.
  const direct = new Redis(replica.url);
  clients.push(direct);
  expect(await direct.info("replication")).toContain("role:master");
  for (const d of [...before, ...after]) expect(await box.get(d.key)).toMatchObject({ key: d.key, status: "completed" });
});
