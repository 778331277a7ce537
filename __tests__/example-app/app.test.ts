import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Redis } from "ioredis";
import pino from "pino";
import request from "supertest";
import type { AnyWebhookEvent } from "../../lib/entries/index";
import { createDemoApp, type DemoApp, type DemoOptions } from "../../example-app/app";
import { DEMO_REPLICATE_API_TOKEN } from "../../example-app/fake-replicate";
import { ListenerFaults } from "../../example-app/listener-faults";
import { allImagesExample, crazyhorseDelivery, crazyhorseExample, replicateDelivery, sendDelivery } from "../../lib/entries/testing";
import { startDemoServer } from "../helpers/demo-process";
import { serveExampleApp, type ServedExampleApp } from "../helpers/example-app";
import { suiteRedisUrl } from "../helpers/redis-server";

const options = { crazyhorseSecret: "ch-secret", allImagesSecret: "ai-secret", imageBaseUrl: "https://storage.example.com/" };

/** A pino logger whose messages land in an array, as the example app's terminal would show them. */
function capturingLogger(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { logger: pino({ level: "info" }, stream), messages };
}

/** Only the example app's own lines, not the middleware's (which logs through the same logger). */
const demoLines = (messages: string[]) => messages.filter((m) => !m.startsWith("imagegen-webhooks:"));

type Served = ServedExampleApp;

/** The example app on a loopback port, its storage route at its own address as `npm start` sets it. */
function serve(extra: Partial<DemoOptions> | ((url: string) => Partial<DemoOptions>) = {}): Promise<Served> {
  return serveExampleApp((url) => ({
    ...options,
    imageBaseUrl: `${url}/storage/`,
    simulationTimeScale: 0,
    ...(typeof extra === "function" ? extra(url) : extra),
  }));
}

interface FeedEvent {
  id: string;
  type: string;
  // What the example app put in it: read as the page reads it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the page reads it untyped too
  data: any;
}

/** Reads the example app's /events stream as a browser's EventSource would, until `close()`. */
function openFeed(url: string, lastEventId?: string) {
  const events: FeedEvent[] = [];
  const waiters = new Set<() => void>();
  const abort = new AbortController();
  const done = (async () => {
    const response = await fetch(`${url}/events`, {
      signal: abort.signal,
      headers: lastEventId ? { "last-event-id": lastEventId } : {},
    });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const field = (name: string) =>
          block
            .split("\n")
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const data = field("data");
        if (data !== undefined) events.push({ id: field("id") ?? "", type: field("event") ?? "message", data: JSON.parse(data) });
        for (const wake of waiters) wake();
      }
    }
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) throw err;
  });
  return {
    events,
    /** Resolves once `predicate` holds over the events so far; fails after `ms`. */
    until(predicate: (events: FeedEvent[]) => boolean, ms = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(events)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the feed did not get there in ${ms} ms; it got: ${events.map((e) => e.data.name ?? e.type).join(", ")}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    async close() {
      abort.abort();
      await done;
    },
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** An image from the storage route, with supertest (which keeps image bodies as bytes). */
async function storageImage(app: DemoApp["app"], path: string) {
  const response = await request(app).get(path);
  return { response, bytes: Buffer.isBuffer(response.body) ? response.body : Buffer.alloc(0) };
}

const names = (events: FeedEvent[], generationId: string) =>
  events.filter((e) => e.type === "delivery" && e.data.generation.id === generationId).map((e) => e.data.name as string);

describe("the example app's webhook routes", () => {
  test("accepts the crazyhorse example with its token, answers success and logs the event through pino", async () => {
    const { logger, messages } = capturingLogger();
    const { app } = createDemoApp({ ...options, logger });
    const response = await request(app)
      .post("/webhooks/crazyhorse?token=ch-secret")
      .set("content-type", "application/json")
      .send(JSON.stringify(crazyhorseExample));
    expect(response.status).toBe(200);
    expect(response.text).toBe("success");
    expect(demoLines(messages)).toEqual([
      `crazyhorse.done: generation ${crazyhorseExample.code} is completed (https://storage.example.com/${crazyhorseExample.generateImageUrls[0]})`,
    ]);
  });

  test("accepts the all-images example and logs a refused and a duplicate delivery", async () => {
    const { logger, messages } = capturingLogger();
    const { app } = createDemoApp({ ...options, logger });
    const send = (token: string) =>
      request(app)
        .post(`/webhooks/all-images?token=${token}`)
        .set("content-type", "application/json")
        .send(JSON.stringify(allImagesExample));
    expect((await send("ai-secret")).status).toBe(200);
    expect((await send("ai-secret")).status).toBe(200);
    expect((await send("forged")).status).toBe(401);
    expect(demoLines(messages)).toEqual([
      `all-images.print.completed: generation ${allImagesExample.data.id} is completed (${allImagesExample.data.images[0].url})`,
      `duplicate of all-images.print.completed (${allImagesExample.id}): not emitted again`,
      "refused a delivery to all-images: 401 auth.failed",
    ]);
  });
});

describe("the example app's log", () => {
  test("a failed listener is one line whose err carries the cause once; the line's own text does not repeat it", async () => {
    const lines: { msg: string; err?: { message: string } }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    const demo = createDemoApp({ ...options, logger: pino({ level: "info" }, stream) });
    const { app, webhooks } = demo;
    try {
      webhooks.on("crazyhorse.done", () => {
        throw new Error("the printer is out of paper");
      });
      await request(app)
        .post("/webhooks/crazyhorse?token=ch-secret")
        .set("content-type", "application/json")
        .send(JSON.stringify(crazyhorseExample));
      const failed = lines.filter((line) => line.err && !line.msg.startsWith("imagegen-webhooks:"));
      expect(failed).toHaveLength(1);
      expect(failed[0]!.msg).toBe("a listener of crazyhorse.done failed");
      expect(failed[0]!.err!.message).toContain("the printer is out of paper");
    } finally {
      await demo.close();
    }
  });
});

describe("the example app's page", () => {
  test("is served at / with its script and style, and other routes are left to Express", async () => {
    const { app } = createDemoApp(options);
    const page = await request(app).get("/");
    expect(page.status).toBe(200);
    expect(page.type).toBe("text/html");
    expect(page.text).toContain("Simulate a crazyhorse job");
    expect(page.text).toContain("Simulate an all-images job");
    expect(page.text).toContain("Simulate a Replicate prediction");
    const script = await request(app).get("/demo.js");
    expect(script.type).toMatch(/^(text|application)\/javascript$/);
    expect(script.text).toContain('new EventSource("events")');
    expect((await request(app).get("/demo.css")).type).toBe("text/css");
    expect((await request(app).get("/nowhere")).status).toBe(404);
  });
});

describe("the storage route", () => {
  test("draws any image path as a small PNG, the same one each time, another for another path", async () => {
    const { app } = createDemoApp({ ...options, imageBaseUrl: "http://demo.test/storage/" });
    const path = "u1/job1/generate-1.png";
    const before = await storageImage(app, `/storage/${path}`);
    expect(before.response.status).toBe(200);
    expect(before.response.headers["content-type"]).toBe("image/png");
    expect(before.response.headers["x-content-type-options"]).toBe("nosniff");
    expect(before.bytes.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    // IHDR: 192 × 192.
    expect([before.bytes.readUInt32BE(16), before.bytes.readUInt32BE(20)]).toEqual([192, 192]);
    expect(before.bytes.length).toBeLessThan(8000);
    expect((await storageImage(app, `/storage/${path}`)).bytes).toEqual(before.bytes);
    expect((await storageImage(app, "/storage/u1/job1/generate-2.png")).bytes).not.toEqual(before.bytes);
  });

  test("answers 404 for what is not an image path, SVG included (keepImages refuses it)", async () => {
    const { app } = createDemoApp({ ...options, imageBaseUrl: "http://demo.test/storage/" });
    expect((await request(app).get("/storage/u/notes.txt")).status).toBe(404);
    expect((await request(app).get("/storage/u/x.svg")).status).toBe(404);
  });
});

describe("the live feed (Server-Sent Events fed by the emitter)", () => {
  test("streams each accepted delivery, each rejected one and each duplicate, and replays them to a late or returning page", async () => {
    const served = await serve();
    const feed = openFeed(served.url);
    try {
      const delivery = crazyhorseDelivery({ state: "DONE" });
      const send = (secret: string) => sendDelivery(`${served.url}/webhooks/crazyhorse`, { body: delivery, secret });
      expect((await send("ch-secret")).status).toBe(200);
      expect((await send("ch-secret")).status).toBe(200);
      expect((await send("wrong")).status).toBe(401);
      await feed.until((events) => events.length === 3);
      expect(feed.events.map((e) => e.type)).toEqual(["delivery", "duplicate", "invalid"]);
      const [accepted, duplicate, invalid] = feed.events as [FeedEvent, FeedEvent, FeedEvent];
      expect(accepted.data).toMatchObject({
        name: "crazyhorse.done",
        deliveryId: `${delivery.code}:done`,
        expectedImages: 1,
        generation: {
          provider: "crazyhorse",
          id: delivery.code,
          status: "completed",
          images: [{ url: `${served.url}/storage/${delivery.generateImageUrls?.[0]}` }],
        },
      });
      expect(duplicate.data).toMatchObject({ name: "crazyhorse.done", provider: "crazyhorse", generationId: delivery.code });
      expect(invalid.data).toMatchObject({ provider: "crazyhorse", status: 401, reason: "auth.failed" });

      const late = openFeed(served.url);
      const returning = openFeed(served.url, accepted.id);
      try {
        await late.until((events) => events.length === 3);
        await returning.until((events) => events.length === 2);
        expect(returning.events.map((e) => e.type)).toEqual(["duplicate", "invalid"]);
      } finally {
        await late.close();
        await returning.close();
      }
    } finally {
      await feed.close();
      await served.close();
    }
  });
});

describe("the simulator", () => {
  // The same play for each provider that reports its images as they come: its own steps, then the
  // last one with four images from the example app's storage, and the retried delivery caught as a duplicate.
  test.each([
    {
      provider: "all-images",
      how: "created, active, a progress per image, completed",
      steps: [
        "all-images.print.created",
        "all-images.print.active",
        ...Array(4).fill("all-images.print.progress"),
        "all-images.print.completed",
      ],
    },
    {
      provider: "replicate",
      how: "signed: starting, processing as its output grows, succeeded",
      steps: ["replicate.starting", ...Array(5).fill("replicate.processing"), "replicate.succeeded"],
    },
    {
      provider: "fal",
      how: "signed with Ed25519 by a key pair made at start: one OK delivery with every image",
      steps: ["fal.ok"],
    },
  ])("$provider: a whole job over HTTP through the real pipeline ($how), and the retry is a duplicate", async ({ provider, steps }) => {
    const last = steps.at(-1) as string;
    const served = await serve();
    const feed = openFeed(served.url);
    try {
      const started = await request(served.url).post(`/simulate/${provider}?outcome=retry`);
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ provider, outcome: "completed", deliveries: steps.length + 1 });
      const id = started.body.id as string;
      await feed.until((events) => names(events, id).includes(last) && events.some((e) => e.type === "duplicate"));
      expect(names(feed.events, id)).toEqual(steps);
      expect(feed.events.filter((e) => e.type === "duplicate")).toHaveLength(1);
      expect(feed.events.filter((e) => e.type === "invalid")).toEqual([]);
      const completed = feed.events.find((e) => e.data.name === last) as FeedEvent;
      expect(completed.data.expectedImages).toBe(4);
      const images = completed.data.generation.images as { url: string }[];
      expect(images).toHaveLength(4);
      for (const { url } of images) {
        expect(url.startsWith(`${served.url}/storage/`)).toBe(true);
        const image = await fetch(url);
        expect(image.status).toBe(200);
        expect(image.headers.get("content-type")).toBe("image/png");
        expect(Buffer.from(await image.arrayBuffer()).subarray(0, 8)).toEqual(PNG_SIGNATURE);
      }
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("a Replicate delivery that is not signed with the example app's secret is refused", async () => {
    const { app } = createDemoApp(options);
    const unsigned = await request(app)
      .post("/webhooks/replicate")
      .set("content-type", "application/json")
      .send(JSON.stringify(replicateDelivery()));
    expect(unsigned.status).toBe(401);
  });

  test("plays a crazyhorse job whose relative image paths resolve to the example app's storage, and a failed one", async () => {
    const served = await serve();
    const feed = openFeed(served.url);
    try {
      const done = (await request(served.url).post("/simulate/crazyhorse?outcome=completed")).body.id as string;
      const failed = (await request(served.url).post("/simulate/crazyhorse?outcome=failed")).body.id as string;
      await feed.until((events) => names(events, done).length === 3 && names(events, failed).length === 3);
      expect(names(feed.events, done)).toEqual(["crazyhorse.waiting", "crazyhorse.processing", "crazyhorse.done"]);
      expect(names(feed.events, failed)).toEqual(["crazyhorse.waiting", "crazyhorse.processing", "crazyhorse.failed"]);
      const last = feed.events.find((e) => e.data.name === "crazyhorse.done" && e.data.generation.id === done) as FeedEvent;
      const images = last.data.generation.images as { url: string }[];
      expect(images).toHaveLength(4);
      for (const { url } of images) expect((await fetch(url)).status).toBe(200);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("sends a forged delivery that the middleware answers 401 and reports as invalid", async () => {
    const served = await serve();
    const feed = openFeed(served.url);
    try {
      const forged = await request(served.url).post("/simulate/forged");
      expect(forged.status).toBe(200);
      expect(forged.body.status).toBe(401);
      await feed.until((events) => events.some((e) => e.type === "invalid"));
      expect(feed.events.map((e) => e.type)).toEqual(["invalid"]);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("refuses an unknown provider or outcome, and more jobs than it plays at once", async () => {
    const served = await serve({ simulationTimeScale: 1 });
    try {
      expect((await request(served.url).post("/simulate/midjourney")).status).toBe(404);
      expect((await request(served.url).post("/simulate/crazyhorse?outcome=maybe")).status).toBe(400);
      const statuses: number[] = [];
      for (let i = 0; i < 9; i++) statuses.push((await request(served.url).post("/simulate/all-images")).status);
      expect(statuses).toEqual([...Array(8).fill(202), 429]);
    } finally {
      await served.close(); // also stops the eight jobs still playing
    }
  });
});

describe("the example app in memory mode (no REDIS_URL)", () => {
  test("has no inbox: the deliveries panel says so, the inbox outcomes and replay say they need REDIS_URL, no bull-board", async () => {
    const { app } = createDemoApp(options);
    expect((await request(app).get("/deliveries")).body).toEqual({ inbox: false, deliveries: [] });
    for (const outcome of ["flaky", "dead"]) {
      const refused = await request(app).post(`/simulate/crazyhorse?outcome=${outcome}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error).toBe(`the ${outcome} outcome needs the durable inbox: start the demo with REDIS_URL`);
    }
    expect((await request(app).post("/deliveries/crazyhorse%3Ax%3Adone/replay")).status).toBe(409);
    expect((await request(app).get("/admin/queues")).status).toBe(404);
  });

  test("serves a favicon at /favicon.ico, the icon the page links", async () => {
    const { app } = createDemoApp(options);
    const icon = await request(app).get("/favicon.ico");
    expect(icon.status).toBe(200);
    expect(icon.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect((await request(app).get("/")).text).toContain('<link rel="icon" href="favicon.svg" type="image/svg+xml" />');
    expect((await request(app).get("/favicon.svg")).body).toEqual(icon.body);
  });

  test("a failed Replicate prediction's delivery carries why it failed, for its card", async () => {
    const served = await serve();
    const feed = openFeed(served.url);
    try {
      const id = (await request(served.url).post("/simulate/replicate?outcome=failed")).body.id as string;
      await feed.until((events) => names(events, id).includes("replicate.failed"));
      const failed = feed.events.find((e) => e.data.name === "replicate.failed") as FeedEvent;
      expect(failed.data.failure).toBe("the model ran out of GPU memory");
      const earlier = feed.events.filter((e) => e.type === "delivery" && e.data.name !== "replicate.failed");
      expect(earlier.map((e) => e.data.failure)).toEqual(earlier.map(() => undefined));
    } finally {
      await feed.close();
      await served.close();
    }
  });
});

describe("a lost final webhook recovered, and images kept (issues 15 and 16)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "demo-kept-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The example app as `npm start` runs it, with reconcile timings short enough for a test. */
  const recovering = (url: string): Partial<DemoOptions> => ({
    reconcile: { origin: url, afterMs: 200, everyMs: 50 },
    keepImages: { dir, publicBaseUrl: `${url}/kept/` },
  });

  test("the lost outcome: the succeeded webhook is never sent, and the prediction completes from the fake API, origin reconciled", async () => {
    const served = await serve(recovering);
    const feed = openFeed(served.url);
    try {
      const started = await request(served.url).post("/simulate/replicate?outcome=lost");
      expect(started.status).toBe(202);
      expect(started.body).toMatchObject({ provider: "replicate", outcome: "completed", deliveries: 6 });
      const id = started.body.id as string;
      await feed.until((events) => names(events, id).includes("replicate.succeeded"), 5000);
      const deliveries = feed.events.filter((e) => e.type === "delivery" && e.data.generation.id === id);
      expect(deliveries.map((e) => [e.data.name, e.data.origin])).toEqual([
        ["replicate.starting", "webhook"],
        ...Array(5).fill(["replicate.processing", "webhook"]),
        ["replicate.succeeded", "reconciled"],
      ]);
      const recovered = deliveries.at(-1) as FeedEvent;
      expect(recovered.data.generation).toMatchObject({ status: "completed", previousStatus: "processing" });
      expect(recovered.data.generation.images).toHaveLength(4);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("each image is kept in the directory and served at /kept/: the same bytes as the storage's", async () => {
    const served = await serve(recovering);
    const feed = openFeed(served.url);
    try {
      const id = (await request(served.url).post("/simulate/all-images?outcome=completed")).body.id as string;
      await feed.until((events) => names(events, id).includes("all-images.print.completed"));
      const completed = feed.events.find((e) => e.data.name === "all-images.print.completed") as FeedEvent;
      const images = completed.data.generation.images as { url: string; keptUrl?: string }[];
      expect(images).toHaveLength(4);
      expect(feed.events.filter((e) => e.type === "image-failed")).toEqual([]);
      for (const { url, keptUrl } of images) {
        expect(keptUrl?.startsWith(`${served.url}/kept/all-images/${id}/`)).toBe(true);
        const original = Buffer.from(await (await fetch(url)).arrayBuffer());
        const onDisk = readFileSync(join(dir, decodeURIComponent(new URL(keptUrl as string).pathname.slice("/kept/".length))));
        expect(onDisk).toEqual(original);
        const served_ = await fetch(keptUrl as string);
        expect(served_.status).toBe(200);
        expect(served_.headers.get("content-type")).toBe("image/png");
        expect(served_.headers.get("x-content-type-options")).toBe("nosniff");
        expect(Buffer.from(await served_.arrayBuffer())).toEqual(original);
      }
      expect((await fetch(`${served.url}/kept/all-images/${id}/nothing.png`)).status).toBe(404);
      expect((await fetch(`${served.url}/kept/x.png.abc.partial`)).status).toBe(404);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("an OpenAI job: the signed event names the response, whose images are read back from the fake API as bytes and kept", async () => {
    const served = await serve(recovering);
    const feed = openFeed(served.url);
    try {
      const started = await request(served.url).post("/simulate/openai?outcome=completed");
      expect(started.body).toMatchObject({ provider: "openai", outcome: "completed", deliveries: 1 });
      const id = started.body.id as string;
      await feed.until((events) => names(events, id).includes("openai.response.completed"), 5000);
      const completed = feed.events.find((e) => e.data.name === "openai.response.completed") as FeedEvent;
      const images = completed.data.generation.images as { url: string; keptUrl?: string; contentType?: string }[];
      expect(images.length).toBeGreaterThan(0);
      for (const { url, keptUrl, contentType } of images) {
        expect(contentType).toBe("image/png");
        expect(url.startsWith("data:image/png;base64,")).toBe(true);
        expect(keptUrl?.startsWith(`${served.url}/kept/openai/${id}/`)).toBe(true);
        const onDisk = readFileSync(join(dir, decodeURIComponent(new URL(keptUrl as string).pathname.slice("/kept/".length))));
        expect(onDisk).toEqual(Buffer.from(url.slice(url.indexOf(",") + 1), "base64"));
      }
      // The fake API wants the demo's key, as OpenAI's wants yours.
      expect((await fetch(`${served.url}/fake-openai/v1/responses/${id}`)).status).toBe(401);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("an image that cannot be kept is on the feed with its reason, and its delivery still comes", async () => {
    const served = await serve(recovering);
    const feed = openFeed(served.url);
    try {
      // A delivery naming an image the storage route does not draw: a 404, a permanent failure.
      const body = crazyhorseDelivery({ state: "DONE", generateImageUrls: ["u/notes.txt"] });
      expect((await sendDelivery(`${served.url}/webhooks/crazyhorse`, { body, secret: "ch-secret" })).status).toBe(200);
      await feed.until((events) => names(events, body.code).length === 1);
      expect(feed.events.map((e) => e.type)).toEqual(["image-failed", "delivery"]);
      expect(feed.events[0]?.data).toMatchObject({ provider: "crazyhorse", generationId: body.code, index: 0, reason: "http-status" });
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("the fake Replicate API wants the demo's token, and knows only the predictions played; lost needs it, and Replicate", async () => {
    const served = await serve(recovering);
    try {
      const id = (await request(served.url).post("/simulate/replicate?outcome=completed")).body.id as string;
      const read = (token?: string) =>
        fetch(`${served.url}/fake-replicate/v1/predictions/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      expect((await read()).status).toBe(401);
      expect((await read("wrong")).status).toBe(401);
      // The simulator plays at full speed here: its last delivery is recorded as soon as it is answered.
      for (
        let i = 0;
        i < 50 && (await read(DEMO_REPLICATE_API_TOKEN).then((r) => r.json() as Promise<{ status?: string }>)).status !== "succeeded";
        i++
      )
        await new Promise((resolve) => setTimeout(resolve, 20));
      const known = await read(DEMO_REPLICATE_API_TOKEN);
      expect(known.status).toBe(200);
      expect(await known.json()).toMatchObject({ id, status: "succeeded" });
      const unknown = await fetch(`${served.url}/fake-replicate/v1/predictions/nope`, {
        headers: { authorization: `Bearer ${DEMO_REPLICATE_API_TOKEN}` },
      });
      expect(unknown.status).toBe(404);
      expect((await request(served.url).post("/simulate/crazyhorse?outcome=lost")).status).toBe(400);
    } finally {
      await served.close();
    }
    const { app } = createDemoApp(options);
    const refused = await request(app).post("/simulate/replicate?outcome=lost");
    expect(refused.status).toBe(409);
    expect((await request(app).get("/fake-replicate/v1/predictions/x")).status).toBe(404);
  });
});

describe("the example app in inbox mode (REDIS_URL), against the suite's redis-server", () => {
  let connection: Redis;
  beforeAll(() => {
    connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
  });
  afterAll(() => connection.disconnect());

  /** The example app over a queue of its own, retrying at once. */
  const serveInbox = () => serve({ inbox: { connection, queueName: `example-app-${randomUUID()}`, retryDelayMs: 20 } });
  const deliveriesOf = async (url: string) => (await request(url).get("/deliveries")).body.deliveries as Record<string, unknown>[];

  test("a job's outcome is kept in Redis beside the queue: another process's worker fails the same attempts", async () => {
    const queueName = `example-app-${randomUUID()}`;
    const clicked = new ListenerFaults(connection, queueName);
    const otherProcess = new ListenerFaults(connection, queueName);
    await clicked.add("crazyhorse", "flaky-job", "flaky");
    await clicked.add("all-images", "broken-job", "broken");
    // A generation's last delivery, as far as the listener reads it.
    const last = (provider: string, id: string, attempt: number, replayed = false) =>
      ({ generation: { provider, id, status: "completed" }, attempt, replayed }) as unknown as AnyWebhookEvent;
    await expect(otherProcess.listener(last("crazyhorse", "flaky-job", 1))).rejects.toThrow(/attempt 1;/);
    await expect(otherProcess.listener(last("crazyhorse", "flaky-job", 2))).rejects.toThrow(/attempt 2;/);
    await expect(otherProcess.listener(last("crazyhorse", "flaky-job", 3))).resolves.toBeUndefined();
    await expect(otherProcess.listener(last("all-images", "broken-job", 3))).rejects.toThrow(/a bug in the demo's listener/);
    await expect(otherProcess.listener(last("all-images", "broken-job", 1, true))).resolves.toBeUndefined();
    // Another queue is another demo: its flags are not these.
    await expect(
      new ListenerFaults(connection, `${queueName}-other`).listener(last("crazyhorse", "flaky-job", 1)),
    ).resolves.toBeUndefined();
  });

  test("a job whose listener fails twice: attempts 1 and 2 fail on the page, the third completes", async () => {
    const served = await serveInbox();
    const feed = openFeed(served.url);
    try {
      const id = (await request(served.url).post("/simulate/crazyhorse?outcome=flaky")).body.id as string;
      await feed.until((events) => names(events, id).includes("crazyhorse.done"));
      const failures = feed.events.filter((e) => e.type === "attempt-failed" && e.data.generationId === id);
      expect(failures.map((e) => [e.data.name, e.data.attempt])).toEqual([
        ["crazyhorse.done", 1],
        ["crazyhorse.done", 2],
      ]);
      expect(failures[0]?.data.message).toMatch(/^the image service did not answer \(attempt 1;/);
      const done = feed.events.find((e) => e.type === "delivery" && e.data.name === "crazyhorse.done") as FeedEvent;
      expect(done.data).toMatchObject({ attempt: 3, replayed: false, generation: { status: "completed" } });
      // The earlier deliveries ran once, in order.
      expect(names(feed.events, id)).toEqual(["crazyhorse.waiting", "crazyhorse.processing", "crazyhorse.done"]);
      await feed.until((events) =>
        events.some(
          (e) =>
            e.type === "deliveries" &&
            e.data.deliveries.some((d: { key: string; status: string }) => d.key === `crazyhorse:${id}:done` && d.status === "completed"),
        ),
      );
      expect(await deliveriesOf(served.url)).toContainEqual(
        expect.objectContaining({ key: `crazyhorse:${id}:done`, status: "completed", attempts: 3, replayed: false }),
      );
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("two demos on one queue: a job received by the one with no worker runs on the other's, and both feeds show it, failing twice then completing", async () => {
    const queueName = `example-app-${randomUUID()}`;
    const web = await serve({ inbox: { connection, queueName, retryDelayMs: 20, worker: false } });
    const worker = await serve({ inbox: { connection, queueName, retryDelayMs: 20 } });
    const feeds = [openFeed(web.url), openFeed(worker.url)];
    try {
      const id = (await request(web.url).post("/simulate/crazyhorse?outcome=flaky")).body.id as string;
      for (const feed of feeds) {
        await feed.until((events) => names(events, id).includes("crazyhorse.done"));
        const failures = feed.events.filter((e) => e.type === "attempt-failed" && e.data.generationId === id);
        expect(failures.map((e) => e.data.attempt)).toEqual([1, 2]);
        expect(feed.events.find((e) => e.type === "delivery" && e.data.name === "crazyhorse.done")?.data).toMatchObject({ attempt: 3 });
        expect(names(feed.events, id)).toEqual(["crazyhorse.waiting", "crazyhorse.processing", "crazyhorse.done"]);
      }
    } finally {
      await Promise.all(feeds.map((feed) => feed.close()));
      await web.close();
      await worker.close();
    }
  });

  test("a job whose listener always fails goes dead, is listed dead with its error, and a replay completes it", async () => {
    const served = await serveInbox();
    const feed = openFeed(served.url);
    try {
      const id = (await request(served.url).post("/simulate/all-images?outcome=dead")).body.id as string;
      await feed.until((events) => events.some((e) => e.type === "dead"));
      const dead = feed.events.find((e) => e.type === "dead") as FeedEvent;
      expect(dead.data).toMatchObject({ name: "all-images.print.completed", provider: "all-images", generationId: id, attempts: 3 });
      expect(names(feed.events, id)).not.toContain("all-images.print.completed");
      const key = dead.data.key as string;
      const listed = (await deliveriesOf(served.url)).find((d) => d.key === key);
      expect(listed).toMatchObject({ status: "dead", attempts: 3, error: expect.stringContaining("a bug in the demo's listener") });

      const replay = await request(served.url).post(`/deliveries/${encodeURIComponent(key)}/replay`);
      expect(replay.status).toBe(200);
      await feed.until((events) => names(events, id).includes("all-images.print.completed"));
      const completed = feed.events.find((e) => e.type === "delivery" && e.data.name === "all-images.print.completed") as FeedEvent;
      expect(completed.data).toMatchObject({ attempt: 1, replayed: true, generation: { status: "completed" } });
      await feed.until((events) =>
        events.some(
          (e) =>
            e.type === "deliveries" &&
            e.data.deliveries.some((d: { key: string; status: string }) => d.key === key && d.status === "completed"),
        ),
      );
      expect((await deliveriesOf(served.url)).find((d) => d.key === key)).toMatchObject({ status: "completed", replayed: true });
      expect((await request(served.url).post("/deliveries/all-images%3Anothing/replay")).status).toBe(404);
    } finally {
      await feed.close();
      await served.close();
    }
  });

  test("mounts bull-board at /admin/queues over the inbox's own queue, read-only", async () => {
    const queueName = `example-app-${randomUUID()}`;
    const served = await serve({ inbox: { connection, queueName, retryDelayMs: 20 } });
    try {
      const page = await request(served.url).get("/admin/queues");
      expect(page.status).toBe(200);
      expect(page.text).toContain("imagegen-webhooks demo");
      const delivery = crazyhorseDelivery({ state: "DONE" });
      expect((await sendDelivery(`${served.url}/webhooks/crazyhorse`, { body: delivery, secret: "ch-secret" })).status).toBe(200);
      const api = await request(served.url).get("/admin/queues/api/queues");
      expect(api.status).toBe(200);
      const queues = api.body.queues as { name: string; readOnlyMode: boolean; counts: Record<string, number> }[];
      expect(queues.map((q) => [q.name, q.readOnlyMode])).toEqual([[queueName, true]]);
      const counts = queues[0]?.counts ?? {};
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await served.close();
    }
  });
});

/** The README's curl command, taken apart: its URL and its body. */
function readmeCurl(): { url: string; body: string } {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const match = /curl -X POST '([^']+)' \\\n\s+-H 'content-type: application\/json' \\\n\s+-d '([^']+)'/.exec(readme);
  if (!match) throw new Error("the README has no curl command of the expected form");
  return { url: match[1] as string, body: match[2] as string };
}

/** Waits (up to 10 s) until the demo has printed each line: its listeners and its worker log after the answer. */
async function printed(demo: { output: () => string }, ...lines: string[]): Promise<void> {
  for (let waited = 0; waited < 10_000 && !lines.every((line) => demo.output().includes(line)); waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("npm start", () => {
  test("the README's curl sends the provider's documented example", () => {
    expect(JSON.parse(readmeCurl().body)).toEqual(crazyhorseExample);
  });

  test("starts the example app's server, which answers the README's curl with success, logs the event and serves its page", async () => {
    const curl = readmeCurl();
    const { REDIS_URL: _ignored, ...env } = process.env;
    const demo = await startDemoServer(env);
    try {
      expect(demo.output()).toContain("mode: in memory (set REDIS_URL for the durable inbox)");
      expect(demo.output()).toMatch(/images kept in \S*demo-npm-start-\w+, served at http:\/\/localhost:\d+\/kept\//);
      expect(demo.output()).toMatch(/lost Replicate webhooks recovered from the fake API at http:\/\/127\.0\.0\.1:\d+\/fake-replicate/);
      const url = new URL(curl.url);
      url.port = demo.port;
      const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: curl.body });
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("success");
      const completed = `crazyhorse.done: generation ${crazyhorseExample.code} is completed (http://localhost:${demo.port}/storage/`;
      await printed(demo, completed);
      expect(demo.output()).toContain(completed);
      expect(await (await fetch(`http://localhost:${demo.port}/`)).text()).toContain("Simulate a crazyhorse job");
    } finally {
      await demo.stop();
    }
  }, 90_000);

  test("with REDIS_URL, runs in inbox mode: deliveries stored in Redis, a worker in the process, bull-board", async () => {
    const demo = await startDemoServer({ ...process.env, REDIS_URL: suiteRedisUrl() });
    try {
      expect(demo.output()).toMatch(/mode: inbox \(BullMQ on Redis at 127\.0\.0\.1:\d+, queue imagegen-webhooks-demo, 3 attempts;/);
      const body = crazyhorseDelivery({ state: "DONE" });
      const url = `http://127.0.0.1:${demo.port}/webhooks/crazyhorse`;
      expect((await sendDelivery(url, { body, secret: "demo-crazyhorse-secret" })).status).toBe(200);
      expect((await sendDelivery(url, { body, secret: "demo-crazyhorse-secret" })).status).toBe(200);
      const completed = `crazyhorse.done: generation ${body.code} is completed`;
      const duplicate = `duplicate of crazyhorse.done (${body.code}:done): not emitted again`;
      await printed(demo, completed, duplicate);
      expect(demo.output()).toContain(completed);
      expect(demo.output()).toContain(duplicate);
      // The job is marked completed once its listeners have returned, a moment after they log.
      const list = async () =>
        (await (await fetch(`http://127.0.0.1:${demo.port}/deliveries`)).json()) as { inbox: boolean; deliveries: unknown[] };
      let listed = await list();
      for (let tries = 0; tries < 100 && !JSON.stringify(listed.deliveries).includes('"status":"completed"'); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        listed = await list();
      }
      expect(listed.inbox).toBe(true);
      expect(listed.deliveries).toContainEqual(expect.objectContaining({ key: `crazyhorse:${body.code}:done`, status: "completed" }));
      expect((await fetch(`http://127.0.0.1:${demo.port}/admin/queues`)).status).toBe(200);
    } finally {
      await demo.stop();
    }
  }, 90_000);
});

describe("the example app's metrics", () => {
  test("/metrics serves the deliveries and their outcomes in Prometheus's format, and the page links to it", async () => {
    const served = await serve();
    try {
      const delivery = JSON.stringify(crazyhorseExample);
      await fetch(`${served.url}/webhooks/crazyhorse?token=${options.crazyhorseSecret}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: delivery,
      });
      await fetch(`${served.url}/webhooks/crazyhorse?token=wrong`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: delivery,
      });
      const text = await (await fetch(`${served.url}/metrics`)).text();
      expect(text).toMatch(/imagegen_webhooks_deliveries_total\{[^}]*imagegen_webhooks_outcome="(handled|duplicate)"[^}]*\} [1-9]/);
      expect(text).toMatch(/imagegen_webhooks_deliveries_total\{[^}]*error_type="auth.failed"[^}]*\} [1-9]/);
      expect(text).toContain("imagegen_webhooks_delivery_duration_bucket");
      expect(await (await fetch(served.url)).text()).toContain('href="metrics"');
    } finally {
      await served.close();
    }
  });
});
