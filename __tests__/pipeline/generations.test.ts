// A generation's events only move forward: queued → processing → progress → completed | failed.
// Every ordered pair of statuses, for each provider, delivered one after the other: the second
// fires generation.<status> only when it is ahead, else generation.stale; the provider's own events
// fire for both. Also: progress again with new images, a terminal status once, a retry of the
// delivery that moved it, eviction, `generations: false`, and Redis shared by two receivers.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createWebhooks, MemoryGenerations, type AnyWebhookEvent, type Webhooks, type WebhooksOptions } from "imagegen-webhooks";
import { redisStore } from "imagegen-webhooks/redis";
import { allImagesDelivery, crazyhorseDelivery, replicateDelivery } from "imagegen-webhooks/testing";
import { receiveOk } from "../helpers/receive";
import { suiteRedisUrl } from "../helpers/redis-server";

const SECRET = "generations-test-secret";
type Status = "queued" | "processing" | "progress" | "completed" | "failed";
const RANK: Record<Status, number> = { queued: 1, processing: 2, progress: 3, completed: 4, failed: 4 };

/** Each provider's delivery of a generation in a status, with a fresh delivery id each time. */
const PROVIDERS: Record<string, { statuses: Status[]; body: (status: Status, generation: string, images?: number) => unknown }> = {
  crazyhorse: {
    statuses: ["queued", "processing", "completed", "failed"],
    body: (status, code) =>
      crazyhorseDelivery({
        code,
        state: { queued: "WAITING", processing: "PROCESSING", progress: "", completed: "DONE", failed: "FAILED" }[status],
      }),
  },
  "all-images": {
    statuses: ["queued", "processing", "progress", "completed", "failed"],
    body: (status, id, images) => {
      const type = {
        queued: "print.created",
        processing: "print.active",
        progress: "print.progress",
        completed: "print.completed",
        failed: "print.failed",
      }[status];
      const delivery = allImagesDelivery(type, { data: { id } });
      if (images !== undefined) {
        delivery.data.images = Array.from({ length: images }, (_, i) => ({
          id: `img_${i}`,
          url: `https://example.invalid/${id}/${i}.png`,
        }));
      }
      return delivery;
    },
  },
  replicate: {
    statuses: ["queued", "processing", "completed", "failed"],
    body: (status, id, images) => {
      const delivery = replicateDelivery(
        { queued: "starting", processing: "processing", progress: "processing", completed: "succeeded", failed: "failed" }[status],
        { id },
      );
      if (images !== undefined) delivery.output = Array.from({ length: images }, (_, i) => `https://replicate.delivery/x/${id}/${i}.webp`);
      return delivery;
    },
  },
};

function receiver(options: Pick<WebhooksOptions, "generations" | "dedupe"> = {}) {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: SECRET }, replicate: { secret: SECRET } },
    ...options,
  });
  const fired: [string, AnyWebhookEvent][] = [];
  for (const name of [
    "generation.queued",
    "generation.processing",
    "generation.progress",
    "generation.completed",
    "generation.failed",
    "generation.stale",
    "generation",
  ] as const) {
    webhooks.on(name, (event) => void fired.push([name, event as AnyWebhookEvent]));
  }
  // Under the provider's own event name (`crazyhorse.done`…), then as `*`: every delivery reaches it.
  webhooks.on("*", (event) => void fired.push([event.name, event as AnyWebhookEvent], ["*", event as AnyWebhookEvent]));
  return { webhooks, fired };
}

function send(webhooks: Webhooks, provider: string, body: unknown): Promise<void> {
  return receiveOk(webhooks, provider, body, SECRET);
}

const names = (fired: [string, AnyWebhookEvent][]) => fired.map(([name]) => name);

describe.each(Object.entries(PROVIDERS))("%s", (provider, { statuses, body }) => {
  const pairs = statuses.flatMap((first) => statuses.filter((second) => second !== first).map((second) => [first, second] as const));

  test.each(pairs)("%s, then %s", async (first, second) => {
    const { webhooks, fired } = receiver();
    const generation = randomUUID();
    await send(webhooks, provider, body(first, generation));
    expect(names(fired)).toContain(`generation.${first}`);
    expect(fired.find(([name]) => name === `generation.${first}`)?.[1].generation.previousStatus).toBeUndefined();
    fired.length = 0;

    await send(webhooks, provider, body(second, generation));
    const ahead = RANK[second] > RANK[first];
    // The provider's own event fires either way, and `*`.
    expect(names(fired).filter((name) => name.startsWith(`${provider}.`))).toHaveLength(1);
    expect(names(fired)).toContain("*");
    if (ahead) {
      expect(names(fired)).toEqual(expect.arrayContaining([`generation.${second}`, "generation"]));
      expect(names(fired)).not.toContain("generation.stale");
    } else {
      expect(names(fired)).toContain("generation.stale");
      expect(names(fired).filter((name) => name.startsWith("generation.") && name !== "generation.stale")).toEqual([]);
      expect(names(fired)).not.toContain("generation");
    }
    // Where it came from: the first status, whether it moved or stays there.
    expect(fired[0]?.[1].generation.previousStatus).toBe(first);
  });
});

test("progress again fires while it brings new images; the same images again, and a second completed, are stale", async () => {
  const { webhooks, fired } = receiver();
  const { body } = PROVIDERS["all-images"]!;
  const generation = randomUUID();
  const steps: [Status, number][] = [
    ["progress", 1],
    ["progress", 2],
    ["progress", 2],
    ["completed", 4],
    ["completed", 4],
  ];
  const seen: string[] = [];
  for (const [status, images] of steps) {
    fired.length = 0;
    await send(webhooks, "all-images", body(status, generation, images));
    seen.push(names(fired).find((name) => name.startsWith("generation."))!);
  }
  expect(seen).toEqual(["generation.progress", "generation.progress", "generation.stale", "generation.completed", "generation.stale"]);
});

test("a retry of the delivery that moved the generation, after its listener failed, fires its event again", async () => {
  const { webhooks, fired } = receiver();
  let failOnce = true;
  webhooks.on("generation.completed", () => {
    if (failOnce) {
      failOnce = false;
      throw new Error("downstream unavailable");
    }
  });
  webhooks.on("error", () => {});
  const body = JSON.stringify(crazyhorseDelivery({ state: "DONE" }));
  const request = { provider: "crazyhorse", headers: { "content-type": "application/json" }, query: { token: SECRET }, rawBody: body };
  expect((await webhooks.receive(request)).status).toBe(500);
  fired.length = 0;
  expect((await webhooks.receive(request)).status).toBe(200);
  expect(names(fired)).toContain("generation.completed");
});

test("a generation evicted from memory is new again: its next delivery fires, whatever its status", async () => {
  const { webhooks, fired } = receiver({ generations: new MemoryGenerations({ maxEntries: 2 }) });
  const first = randomUUID();
  await send(webhooks, "crazyhorse", crazyhorseDelivery({ code: first, state: "DONE" }));
  for (const other of [randomUUID(), randomUUID()]) await send(webhooks, "crazyhorse", crazyhorseDelivery({ code: other, state: "DONE" }));
  fired.length = 0;
  await send(webhooks, "crazyhorse", crazyhorseDelivery({ code: first, state: "PROCESSING" }));
  expect(names(fired)).toContain("generation.processing");
  expect(fired[0]?.[1].generation.previousStatus).toBeUndefined();
});

test("generations: false fires every delivery's generation events as they come", async () => {
  const { webhooks, fired } = receiver({ generations: false });
  const code = randomUUID();
  await send(webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "DONE" }));
  fired.length = 0;
  await send(webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "PROCESSING" }));
  expect(names(fired)).toContain("generation.processing");
  expect(names(fired)).not.toContain("generation.stale");
});

describe("in Redis, shared by several receivers", () => {
  const clients: Redis[] = [];
  afterAll(() => clients.forEach((client) => client.disconnect()));
  const redisReceiver = (prefix: string) => {
    const client = new Redis(suiteRedisUrl());
    clients.push(client);
    return receiver({ dedupe: redisStore(client, { keyPrefix: prefix }) });
  };

  test("two instances given completed and processing of one generation at once end at completed, with one generation.completed", async () => {
    for (let round = 0; round < 20; round++) {
      const prefix = `generations-race-${randomUUID()}:`;
      const [a, b] = [redisReceiver(prefix), redisReceiver(prefix)];
      const code = randomUUID();
      await send(a.webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "WAITING" }));
      await Promise.all([
        send(a.webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "DONE" })),
        send(b.webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "PROCESSING" })),
      ]);
      const all = [...a.fired, ...b.fired].map(([name]) => name);
      expect(all.filter((name) => name === "generation.completed")).toHaveLength(1);
      // Whichever ran first, nothing after completed moved it back.
      const later = redisReceiver(prefix);
      // RUNNING is processing too, under another delivery key than the PROCESSING already handled.
      await send(later.webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "RUNNING" }));
      expect(names(later.fired)).toContain("generation.stale");
      expect(later.fired[0]?.[1].generation.previousStatus).toBe("completed");
    }
  });
});
