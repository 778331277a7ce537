// partitions and prefix on one Redis (the suite's): the layout without them is BullMQ's own, as
// before; with them each queue's hash tag lies in its own share of the cluster slots, and a
// delivery's duplicates meet in its one queue. waitForReplicas on a Redis with no replica says so.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { slotOf as calculateSlot } from "../../lib/inbox/bullmq/partitions";
import { bullmqInbox, InboxUnavailableError, type BullmqInbox } from "imagegen-webhooks/bullmq";
import { suiteRedisUrl } from "../helpers/redis-server";
import { storedDelivery } from "../helpers/stored-delivery";

let connection: Redis;
const inboxes: BullmqInbox[] = [];

beforeAll(() => {
  connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
});

afterEach(async () => {
  await Promise.all(inboxes.splice(0).map((inbox) => inbox.close()));
});

afterAll(() => connection.disconnect());

function inbox(options: Omit<Parameters<typeof bullmqInbox>[0], "connection">): BullmqInbox {
  const made = bullmqInbox({ connection, ...options });
  inboxes.push(made);
  return made;
}

test("without partitions the queue keeps BullMQ's own layout: bull:<queueName>:<job>", async () => {
  const queueName = `layout-${randomUUID().slice(0, 8)}`;
  const made = inbox({ queueName });
  expect(await made.enqueue(storedDelivery("a1"))).toBe("stored");
  expect(await connection.exists(`bull:${queueName}:crazyhorse%3Aa1%3Adone`)).toBe(1);
  expect(made.queues).toEqual([made.queue]);
});

test("partitions: 3 — each queue's hash tag lies in the middle of its third of the 16384 slots, and duplicates meet in one queue", async () => {
  const queueName = `parts-${randomUUID().slice(0, 8)}`;
  const made = inbox({ queueName, partitions: 3 });
  const prefixes = made.queues.map((queue) => queue.opts.prefix as string);
  expect(prefixes).toHaveLength(3);
  prefixes.forEach((prefix, i) => {
    expect(prefix).toMatch(/^\{imagegen-webhooks\/\d\.\d+\}$/);
    const slot = calculateSlot(prefix);
    expect(slot).toBeGreaterThanOrEqual(((i + 0.25) * 16384) / 3);
    expect(slot).toBeLessThan(((i + 0.75) * 16384) / 3);
  });
  // The same options in another process give the same queues.
  expect(inbox({ queueName, partitions: 3 }).queues.map((q) => q.opts.prefix)).toEqual(prefixes);

  const codes = Array.from({ length: 30 }, (_, i) => `d${i}`);
  const first = await Promise.all(codes.map((code) => made.enqueue(storedDelivery(code))));
  const again = await Promise.all(codes.map((code) => made.enqueue(storedDelivery(code))));
  expect(first.every((r) => r === "stored")).toBe(true);
  expect(again.every((r) => r === "duplicate")).toBe(true);
  const perQueue = await Promise.all(made.queues.map((queue) => queue.getJobCountByTypes("waiting")));
  expect(perQueue.reduce((a, b) => a + b, 0)).toBe(30);
  for (const count of perQueue) expect(count).toBeGreaterThan(0);
  expect(await made.counts?.()).toMatchObject({ queued: 30 });
  expect((await made.get("crazyhorse:d7:done"))?.status).toBe("queued");
});

test("partitions and prefix that cannot work are refused at start-up", () => {
  for (const partitions of [0, 1.5, 257, Number.NaN]) {
    expect(() => bullmqInbox({ connection, partitions })).toThrow(/partitions must be a whole number from 1 to 256/);
  }
  expect(() => bullmqInbox({ connection, partitions: 2, prefix: "bull" })).toThrow(
    /with partitions the prefix must hold a hash tag in braces/,
  );
  expect(() => bullmqInbox({ connection, prefix: "" })).toThrow(/prefix must be a non-empty string/);
  expect(() => bullmqInbox({ connection, waitForReplicas: { replicas: 0 } })).toThrow(/waitForReplicas.replicas must be a whole number/);
});

test("waitForReplicas on a Redis with no replica: the delivery is not acknowledged (InboxUnavailableError, the edge's 503)", async () => {
  const made = inbox({ queueName: `wait-${randomUUID().slice(0, 8)}`, waitForReplicas: { replicas: 1, timeoutMs: 50 } });
  const error = await made.enqueue(storedDelivery("w1")).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(InboxUnavailableError);
  expect((error as Error).message).toMatch(/0 of 1 replicas had it within 50 ms \(waitForReplicas\)/);
});
