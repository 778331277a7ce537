/**
 * `imagegen-webhooks/testing`: the builders make deliveries that the real receiver accepts, each
 * build a new delivery; `sendDelivery` posts them to an app or to a URL.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import request from "supertest";
import { createWebhooks, type AnyWebhookEvent, type Generation, type GenerationStatus, type Webhooks } from "imagegen-webhooks";
import {
  allImagesDelivery,
  allImagesExample,
  buildDelivery,
  crazyhorseDelivery,
  crazyhorseExample,
  playJob,
  sendDelivery,
  simulateJob,
} from "imagegen-webhooks/testing";
import { providers } from "../lib/providers/index";
import { bareforge, pixelforge, sketchpad } from "./fixtures/pixelforge-provider";

const SECRET = "testing-helpers-crazyhorse-secret";
const AI_SECRET = "testing-helpers-all-images-secret";

const receivers: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
});

/** The real receiver in an Express app, with what it emits and what each request carried. */
function host() {
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: AI_SECRET } } });
  receivers.push(webhooks);
  const events: AnyWebhookEvent[] = [];
  const duplicates: AnyWebhookEvent[] = [];
  const invalid: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  webhooks.on("duplicate", (event) => void duplicates.push(event));
  webhooks.on("invalid", ({ reason }) => void invalid.push(reason));

  const requests: { url: string; token: string | undefined; contentType: string | undefined }[] = [];
  const app = express();
  app.use((req, _res, next) => {
    const token = req.headers["x-webhook-token"];
    requests.push({ url: req.url, token: typeof token === "string" ? token : undefined, contentType: req.headers["content-type"] });
    next();
  });
  app.use("/webhooks", webhooks.middleware());
  return { app, webhooks, events, duplicates, invalid, requests };
}

function postCrazyhorse(app: express.Express, body: unknown) {
  return request(app).post("/webhooks/crazyhorse").set("x-webhook-token", SECRET).send(JSON.stringify(body)).type("application/json");
}

function postAllImages(app: express.Express, body: unknown) {
  return request(app).post("/webhooks/all-images").set("x-webhook-token", AI_SECRET).send(JSON.stringify(body)).type("application/json");
}

describe("crazyhorseDelivery()", () => {
  test("builds a DONE delivery, with its images, that the receiver accepts (200 `success`) and emits as crazyhorse.done", async () => {
    const h = host();
    const delivery = crazyhorseDelivery();
    expect(delivery.state).toBe("DONE");
    expect(delivery.code).toMatch(/^[0-9a-f]{32}$/);
    expect(delivery.generateImageUrls).toEqual([expect.stringContaining(`${delivery.code}/generate-1.png`)]);

    const res = await postCrazyhorse(h.app, delivery);
    expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: "success" });
    expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([["crazyhorse.done", "completed"]]);
    expect(h.events[0]?.payload).toEqual(delivery);
    expect(h.invalid).toEqual([]);
  });

  test("each call is a new job: two builds are two deliveries, not deduped as one", async () => {
    const h = host();
    const one = crazyhorseDelivery();
    const two = crazyhorseDelivery();
    expect(one.code).not.toBe(two.code);
    expect((await postCrazyhorse(h.app, one)).status).toBe(200);
    expect((await postCrazyhorse(h.app, two)).status).toBe(200);
    expect(h.events.map((e) => e.payload)).toEqual([one, two]);
    expect(h.duplicates).toEqual([]);
  });

  test("overrides apply: a WAITING state carries no images and is emitted as crazyhorse.waiting (queued)", async () => {
    const h = host();
    const delivery = crazyhorseDelivery({ state: "WAITING", params: { hair: "black", number: 2 } });
    expect(delivery.state).toBe("WAITING");
    expect(delivery.generateImageUrls).toBeUndefined();
    expect(delivery.params).toEqual({ hair: "black", number: 2 });
    expect((await postCrazyhorse(h.app, delivery)).status).toBe(200);
    expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([["crazyhorse.waiting", "queued"]]);
    expect(h.events[0]?.generation.params).toEqual({ hair: "black", number: 2 });
  });

  test("a given code is kept (in the image paths too), so that building it twice is the same delivery: a duplicate", async () => {
    const h = host();
    const code = "0123456789abcdef0123456789abcdef";
    const first = crazyhorseDelivery({ code });
    const again = crazyhorseDelivery({ code });
    expect(first.code).toBe(code);
    expect(first.image).toMatch(new RegExp(`/${code}\\.png$`));
    expect((await postCrazyhorse(h.app, first)).status).toBe(200);
    expect((await postCrazyhorse(h.app, again)).status).toBe(200);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]?.generation.id).toBe(code);
    expect(h.duplicates.map((e) => e.id)).toEqual([`${code}:done`]);
  });

  test("does not share its params object between builds", () => {
    const one = crazyhorseDelivery();
    (one.params as Record<string, unknown>).hair = "changed";
    expect(crazyhorseDelivery().params).toEqual(crazyhorseExample.params);
  });
});

describe("allImagesDelivery(type)", () => {
  const TYPES: [string, GenerationStatus, number, number][] = [
    ["print.created", "queued", 0, 0],
    ["print.active", "processing", 2, 0],
    ["print.progress", "progress", 2, 1],
    ["print.completed", "completed", 3, 4],
    ["print.failed", "failed", 4, 0],
  ];

  test.each(TYPES)(
    "%s: accepted and emitted as all-images.<type>, normalized to %s (data.status %i, %i images)",
    async (type, status, dataStatus, images) => {
      const h = host();
      const delivery = allImagesDelivery(type);
      expect(delivery.type).toBe(type);
      expect(delivery.data.status).toBe(dataStatus);
      expect(delivery.data.images).toHaveLength(images);

      const res = await postAllImages(h.app, delivery);
      expect(res.status).toBe(200);
      expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([[`all-images.${type}`, status]]);
      expect(h.events[0]?.payload).toEqual(delivery);
      expect(h.events[0]?.generation.images).toHaveLength(images);
      expect(h.invalid).toEqual([]);
    },
  );

  test("defaults to print.completed", async () => {
    const h = host();
    expect((await postAllImages(h.app, allImagesDelivery())).status).toBe(200);
    expect(h.events.map((e) => e.name)).toEqual(["all-images.print.completed"]);
  });

  test("each call has a fresh envelope id and generation id: two builds are two deliveries", async () => {
    const h = host();
    const one = allImagesDelivery("print.progress");
    const two = allImagesDelivery("print.progress");
    expect(one.id).not.toBe(two.id);
    expect(one.data.id).not.toBe(two.data.id);
    await postAllImages(h.app, one);
    await postAllImages(h.app, two);
    expect(h.events.map((e) => e.id)).toEqual([one.id, two.id]);
    expect(h.duplicates).toEqual([]);
  });

  test("overrides apply to the envelope and merge into data; a fixed id makes the same delivery", async () => {
    const h = host();
    const first = allImagesDelivery("print.completed", { id: "evt_fixed_1", data: { id: "gen_fixed", prompt: "a red fox" } });
    expect(first.id).toBe("evt_fixed_1");
    expect(first.data).toMatchObject({ id: "gen_fixed", prompt: "a red fox", name: allImagesExample.data.name, status: 3 });
    expect(first.data.images?.[0]?.url).toContain("gen_fixed");

    expect((await postAllImages(h.app, first)).status).toBe(200);
    expect((await postAllImages(h.app, allImagesDelivery("print.completed", { id: "evt_fixed_1" }))).status).toBe(200);
    expect(h.events).toHaveLength(1);
    expect(h.events[0]?.generation).toMatchObject({ id: "gen_fixed", prompt: "a red fox" });
    expect(h.duplicates.map((e) => e.id)).toEqual(["evt_fixed_1"]);
  });
});

describe("buildDelivery(provider, overrides)", () => {
  test("crazyhorse: builds a valid delivery with the overrides, a new job each call", async () => {
    const h = host();
    const one = buildDelivery("crazyhorse", { state: "FAILED" });
    const two = buildDelivery("crazyhorse", { state: "FAILED" });
    expect(one.code).not.toBe(two.code);
    await postCrazyhorse(h.app, one);
    await postCrazyhorse(h.app, two);
    expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([
      ["crazyhorse.failed", "failed"],
      ["crazyhorse.failed", "failed"],
    ]);
    expect(h.duplicates).toEqual([]);
  });

  test("all-images: the `type` override chooses the event, a new id each call", async () => {
    const h = host();
    const one = buildDelivery("all-images", { type: "print.failed" });
    const two = buildDelivery("all-images", { type: "print.failed" });
    expect(one.id).not.toBe(two.id);
    expect(one.data.status).toBe(4);
    await postAllImages(h.app, one);
    await postAllImages(h.app, two);
    expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([
      ["all-images.print.failed", "failed"],
      ["all-images.print.failed", "failed"],
    ]);
    expect(h.duplicates).toEqual([]);
  });

  test("all-images: envelope overrides apply", () => {
    const delivery = buildDelivery("all-images", { id: "evt_given", api_version: 2 });
    expect(delivery).toMatchObject({ id: "evt_given", api_version: 2, type: "print.completed" });
  });
});

describe("the providers' examples", () => {
  test("crazyhorseExample and allImagesExample are accepted as they are", async () => {
    const h = host();
    expect((await postCrazyhorse(h.app, crazyhorseExample)).text).toBe("success");
    expect((await postAllImages(h.app, allImagesExample)).status).toBe(200);
    expect(h.events.map((e) => e.payload)).toEqual([crazyhorseExample, allImagesExample]);
  });
});

describe("sendDelivery(app, options)", () => {
  test("POSTs JSON to the app at `path` with the secret in X-Webhook-Token, and returns status, headers and body", async () => {
    const h = host();
    const delivery = crazyhorseDelivery();
    const res = await sendDelivery(h.app, { path: "/webhooks/crazyhorse", body: delivery, secret: SECRET });
    expect({ status: res.status, body: res.body, contentType: res.headers.get("content-type") }).toEqual({
      status: 200,
      body: "success",
      contentType: "text/plain; charset=utf-8",
    });
    expect(h.requests).toEqual([{ url: "/webhooks/crazyhorse", token: SECRET, contentType: "application/json" }]);
    expect(h.events.map((e) => e.payload)).toEqual([delivery]);
  });

  test("`tokenIn: 'query'` puts the secret in ?token= instead of the header", async () => {
    const h = host();
    const delivery = allImagesDelivery("print.created");
    const res = await sendDelivery(h.app, { path: "/webhooks/all-images", body: delivery, secret: AI_SECRET, tokenIn: "query" });
    expect(res.status).toBe(200);
    expect(h.requests).toEqual([{ url: `/webhooks/all-images?token=${AI_SECRET}`, token: undefined, contentType: "application/json" }]);
    expect(h.events.map((e) => e.payload)).toEqual([delivery]);
  });

  test("a wrong or missing secret gets the receiver's 401 problem document", async () => {
    const h = host();
    const wrong = await sendDelivery(h.app, { path: "/webhooks/crazyhorse", body: crazyhorseDelivery(), secret: "wrong" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("content-type")).toBe("application/problem+json");
    expect(JSON.parse(wrong.body)).toMatchObject({ status: 401, title: "Unauthorized" });
    const missing = await sendDelivery(h.app, { path: "/webhooks/crazyhorse", body: crazyhorseDelivery() });
    expect(missing.status).toBe(401);
    expect(h.events).toEqual([]);
    expect(h.invalid).toEqual(["auth.failed", "auth.failed"]);
  });

  test("a string body is sent as it is, and `headers` override the content type", async () => {
    const h = host();
    const malformed = await sendDelivery(h.app, { path: "/webhooks/crazyhorse", body: '{"state": "DONE",', secret: SECRET });
    expect(malformed.status).toBe(400);
    const text = await sendDelivery(h.app, {
      path: "/webhooks/crazyhorse",
      body: JSON.stringify(crazyhorseDelivery()),
      secret: SECRET,
      headers: { "content-type": "text/plain" },
    });
    expect(text.status).toBe(415);
    expect(h.invalid).toEqual(["json.malformed", "content-type.unsupported"]);
  });

  test("works with any request listener, e.g. the bare middleware", async () => {
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } } });
    receivers.push(webhooks);
    const seen: string[] = [];
    webhooks.on("*", (event) => void seen.push(event.name));
    const res = await sendDelivery(webhooks.middleware(), {
      path: "/crazyhorse",
      body: crazyhorseDelivery({ state: "PROCESSING" }),
      secret: SECRET,
    });
    expect(res.status).toBe(200);
    expect(seen).toEqual(["crazyhorse.processing"]);
  });
});

describe("sendDelivery(url, options) against a listening server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  });

  async function listen(app: express.Express): Promise<string> {
    server = createServer(app);
    const s = server;
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const { port } = s.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  test("with the token in the header", async () => {
    const h = host();
    const base = await listen(h.app);
    const delivery = crazyhorseDelivery();
    const res = await sendDelivery(`${base}/webhooks/crazyhorse`, { body: delivery, secret: SECRET });
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: "success" });
    expect(h.requests).toEqual([{ url: "/webhooks/crazyhorse", token: SECRET, contentType: "application/json" }]);
    expect(h.events.map((e) => e.payload)).toEqual([delivery]);
  });

  test("with the token in the query, kept beside the URL's own query parameters", async () => {
    const h = host();
    const base = await listen(h.app);
    const delivery = allImagesDelivery("print.active");
    const res = await sendDelivery(`${base}/webhooks/all-images?source=test`, { body: delivery, secret: AI_SECRET, tokenIn: "query" });
    expect(res.status).toBe(200);
    expect(h.requests).toEqual([
      { url: `/webhooks/all-images?source=test&token=${AI_SECRET}`, token: undefined, contentType: "application/json" },
    ]);
    expect(h.events.map((e) => e.name)).toEqual(["all-images.print.active"]);
  });

  test("the same delivery sent twice to the URL is answered 200 twice and emitted once", async () => {
    const h = host();
    const base = await listen(h.app);
    const delivery = allImagesDelivery();
    const url = `${base}/webhooks/all-images`;
    expect((await sendDelivery(url, { body: delivery, secret: AI_SECRET })).status).toBe(200);
    expect((await sendDelivery(url, { body: delivery, secret: AI_SECRET })).status).toBe(200);
    expect(h.events).toHaveLength(1);
    expect(h.duplicates).toHaveLength(1);
  });
});

describe("a provider of the user's own, defined with its testing hooks", () => {
  const PF_SECRET = "testing-helpers-pixelforge-secret";

  /** A receiver of the user's providers, recording what it emits. */
  function customHost() {
    const webhooks = createWebhooks({
      customProviders: [pixelforge, sketchpad, bareforge],
      providers: { pixelforge: { secret: PF_SECRET }, sketchpad: { secret: PF_SECRET }, bareforge: { secret: PF_SECRET } },
    });
    receivers.push(webhooks);
    const events: { name: string; payload: unknown; generation: Generation<string> }[] = [];
    const duplicates: unknown[] = [];
    webhooks.on("*", (event) => void events.push(event));
    webhooks.on("duplicate", (event) => void duplicates.push(event));
    return { webhooks, events, duplicates };
  }

  test("buildDelivery builds its deliveries from its `example` hook, and sendDelivery gets them accepted", async () => {
    const h = customHost();
    const one = buildDelivery(pixelforge, { state: "queued" });
    const two = buildDelivery(pixelforge, { state: "queued", prompt: "a castle" });
    expect(one.event_id).not.toBe(two.event_id);
    expect(two).toMatchObject({ state: "queued", prompt: "a castle" });
    for (const body of [one, two]) {
      const res = await sendDelivery(h.webhooks.middleware(), { path: "/pixelforge", body, secret: PF_SECRET });
      expect(res.status).toBe(200);
    }
    expect(h.events.map((e) => [e.name, e.generation.status])).toEqual([
      ["pixelforge.queued", "queued"],
      ["pixelforge.queued", "queued"],
    ]);
    expect(h.events.map((e) => e.payload)).toEqual([one, two]);
    expect(h.duplicates).toEqual([]);
  });

  test("simulateJob plays its jobs through its `simulate` hook, deterministic for a seed, and playJob gets every delivery accepted", async () => {
    const h = customHost();
    const server = createServer(h.webhooks.middleware());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const startAt = new Date("2026-01-01T00:00:00Z");
      const job = simulateJob(pixelforge, { seed: 5, outcome: "completed", retry: true, images: 2, startAt });
      expect(simulateJob(pixelforge, { seed: 5, outcome: "completed", retry: true, images: 2, startAt })).toEqual(job);
      expect(job.provider).toBe("pixelforge");
      expect(job.deliveries.filter((d) => d.retry)).toHaveLength(1);
      expect(job.deliveries.filter((d) => !d.retry).map((d) => d.event)).toEqual(["queued", "running", "running", "running", "ready"]);

      const { port } = server.address() as AddressInfo;
      const played = await playJob(job, { url: `http://127.0.0.1:${port}/pixelforge`, secret: PF_SECRET, timeScale: 0 });
      expect(played.map((p) => p.response.status)).toEqual(job.deliveries.map(() => 200));
      expect(h.events.map((e) => e.generation.status)).toEqual(["queued", "processing", "processing", "processing", "completed"]);
      expect(h.events.at(-1)?.generation).toMatchObject({
        id: job.id,
        images: job.images.map((image) => ({ url: `https://cdn.pixelforge.example/${image.path}` })),
      });
      expect(h.duplicates).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  test("without the hooks, a clear error that names what to add, never another provider's body", () => {
    expect(() => buildDelivery(bareforge)).toThrow(
      new TypeError(
        'buildDelivery: provider "bareforge" has no testing hooks: add `testing: { eventField, example }` to its defineProvider() definition',
      ),
    );
    expect(() => simulateJob(bareforge)).toThrow(
      /^simulateJob: provider "bareforge" has no testing hooks: add `testing: \{ eventField, example, simulate \}`/,
    );
    // Hooks to build, none to simulate: it builds, and simulating it says what is missing.
    expect(buildDelivery(sketchpad, { state: "broken" })).toMatchObject({ state: "broken" });
    expect(() => simulateJob(sketchpad)).toThrow(/^simulateJob: provider "sketchpad" has no simulation: add `testing.simulate`/);
  });

  test("a name that is not built in is refused: it used to get an all-images body", () => {
    expect(() => buildDelivery("pixelforge" as never)).toThrow(RangeError);
    expect(() => buildDelivery("pixelforge" as never)).toThrow(
      /"pixelforge" is not a built-in provider \(crazyhorse, all-images, replicate, leonardo, bfl, openai, fal, ideogram\); for one of your own, pass the provider/,
    );
    expect(() => simulateJob("midjourney" as never)).toThrow(/^simulateJob: "midjourney" is not a built-in provider/);
  });

  test("a built-in provider's own object finds its hooks too: they live beside it, not on it", () => {
    expect(providers.replicate).not.toHaveProperty("testing");
    expect(buildDelivery(providers.replicate, { status: "starting" })).toMatchObject({ status: "starting", output: null });
    const startAt = new Date("2026-01-01T00:00:00Z");
    expect(simulateJob(providers.crazyhorse, { seed: 1, startAt })).toEqual(simulateJob("crazyhorse", { seed: 1, startAt }));
  });
});
