import express from "express";
import request from "supertest";
import { createWebhooks, defineProvider } from "../../lib/entries/index";
import { buildDelivery, sendDelivery, simulateJob } from "../../lib/entries/testing";
import { bareforge, pixelforge as forgeWithHooks, pixelforgeSchema } from "../fixtures/pixelforge-provider";

// A provider of the user's own, defined through the public API.
const pixelforge = defineProvider({
  name: "pixelforge",
  schema: pixelforgeSchema,
  knownEvents: ["ready", "broken"],
  eventName: (payload) => payload.state,
  idempotencyKey: (payload) => payload.event_id,
  normalize: (payload, { receivedAt, resolveImageUrl }) => ({
    id: payload.job,
    status: payload.state === "ready" ? "completed" : payload.state === "broken" ? "failed" : "unknown",
    images: (payload.urls ?? []).map((url) => ({ url: resolveImageUrl(url) })),
    ...(payload.prompt !== undefined && { prompt: payload.prompt }),
    params: {},
    createdAt: receivedAt.toISOString(),
  }),
  answer: { body: "ok", headers: { "content-type": "text/plain" } },
  authentication: ["token"],
});

function receiver() {
  const webhooks = createWebhooks({
    customProviders: [pixelforge],
    providers: { pixelforge: { secret: "pf-secret", imageBaseUrl: "https://cdn.pixelforge.example/" }, crazyhorse: { secret: "ch" } },
  });
  const seen: string[] = [];
  for (const name of ["pixelforge.ready", "pixelforge", "generation.completed", "generation", "*"] as const) {
    webhooks.on(name, () => void seen.push(name));
  }
  const app = express();
  app.use("/webhooks", webhooks.middleware());
  return { webhooks, app, seen };
}

const delivery = { event_id: "evt_1", job: "job_9", state: "ready", prompt: "a fox", urls: ["a/1.png"], extra: { future: true } };

test("a user's provider gets its route, its checks, its events and the normalized generation", async () => {
  const { webhooks, app, seen } = receiver();
  let generation: unknown;
  webhooks.on("pixelforge.ready", (event) => {
    generation = event.generation;
  });
  const res = await request(app).post("/webhooks/pixelforge?token=pf-secret").type("json").send(JSON.stringify(delivery));
  expect(res.status).toBe(200);
  expect(res.text).toBe("ok");
  expect(seen).toEqual(["pixelforge.ready", "pixelforge", "generation.completed", "generation", "*"]);
  expect(generation).toEqual({
    provider: "pixelforge",
    id: "job_9",
    status: "completed",
    images: [{ url: "https://cdn.pixelforge.example/a/1.png" }],
    prompt: "a fox",
    params: {},
    createdAt: expect.any(String),
  });

  // Its idempotency key dedupes, its schema refuses, its token is required.
  expect((await request(app).post("/webhooks/pixelforge?token=pf-secret").type("json").send(JSON.stringify(delivery))).status).toBe(200);
  expect(seen.filter((name) => name === "*")).toHaveLength(1);
  const bad = await request(app).post("/webhooks/pixelforge?token=pf-secret").type("json").send('{"event_id":"e","job":1,"state":"ready"}');
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.text).errors).toEqual([{ instancePath: "/job", message: "must be string" }]);
  expect((await request(app).post("/webhooks/pixelforge").type("json").send(JSON.stringify(delivery))).status).toBe(401);
});

test("a status the normalization invents is reported as unknown, so that generation.* stays the shared set", async () => {
  const odd = defineProvider({
    name: "odd",
    schema: { type: "object" } as const,
    eventName: () => "x",
    idempotencyKey: () => "k",
    normalize: () => ({ id: "1", status: "exploded" as "failed", images: [], params: {}, createdAt: "" }),
  });
  const webhooks = createWebhooks({ customProviders: [odd], providers: { odd: { allowUnauthenticated: true } } });
  const statuses: string[] = [];
  webhooks.on("generation", (event) => void statuses.push(event.generation.status));
  await webhooks.receive({ provider: "odd", headers: { "content-type": "application/json" }, rawBody: "{}" });
  expect(statuses).toEqual(["unknown"]);
});

describe("its testing hooks, for imagegen-webhooks/testing and the CLI", () => {
  test("the provider carries the hooks it was given, frozen, and none when given none", () => {
    expect(forgeWithHooks.testing).toEqual({ eventField: "state", example: expect.any(Function), simulate: expect.any(Function) });
    expect(Object.isFrozen(forgeWithHooks.testing)).toBe(true);
    expect(bareforge).not.toHaveProperty("testing");
    expect(pixelforge).not.toHaveProperty("testing");
  });

  test("with them, its deliveries are built, sent and simulated like a built-in provider's; without them, buildDelivery says what to add", async () => {
    const webhooks = createWebhooks({ customProviders: [forgeWithHooks], providers: { pixelforge: { secret: "pf-secret" } } });
    const names: string[] = [];
    webhooks.on("*", (event) => void names.push(event.name));
    const body = buildDelivery(forgeWithHooks, { state: "broken" });
    const res = await sendDelivery(webhooks.middleware(), { path: "/pixelforge", body, secret: "pf-secret" });
    expect(res.status).toBe(200);
    expect(names).toEqual(["pixelforge.broken"]);
    const job = simulateJob(forgeWithHooks, { seed: 2, outcome: "failed", retry: false });
    const headers = { "content-type": "application/json", "x-webhook-token": "pf-secret" };
    for (const { body: delivery } of job.deliveries) {
      expect((await webhooks.receive({ provider: "pixelforge", headers, rawBody: JSON.stringify(delivery) })).status).toBe(200);
    }
    expect(names.at(-1)).toBe("pixelforge.broken");
    await webhooks.close();
    expect(() => buildDelivery(bareforge)).toThrow(/add `testing: \{ eventField, example \}` to its defineProvider\(\) definition/);
  });
});

describe("mistakes are caught at start-up with a message that says what to change", () => {
  const base = {
    schema: { type: "object" } as const,
    eventName: () => "e",
    idempotencyKey: () => "k",
    normalize: () => ({ id: "1", status: "queued" as const, images: [], params: {}, createdAt: "" }),
  };

  test.each([
    [{ ...base, name: "Bad Name" }, /name must be lower case/],
    [{ ...base, name: "error" }, /one of the emitter's own events/],
    [{ ...base, name: "x", schema: null as never }, /schema must be a JSON Schema object/],
    [{ ...base, name: "x", normalize: "no" as never }, /normalize must be a function/],
    [{ ...base, name: "x", authentication: ["password" as "token"] }, /authentication must list/],
    [{ ...base, name: "x", answer: { status: 500 } }, /answer.status must be a 2xx/],
    [{ ...base, name: "x", testing: "hooks" }, /testing must be an object/],
    [
      { ...base, name: "x", testing: { eventField: "", example: () => ({}) } },
      /testing.eventField must name the payload field that selects the event/,
    ],
    [{ ...base, name: "x", testing: { eventField: "state" } }, /testing.example must be a function/],
    [{ ...base, name: "x", testing: { eventField: "state", example: () => ({}), simulate: {} } }, /testing.simulate must be a function/],
  ])("defineProvider(%#)", (definition, message) => {
    expect(() => defineProvider(definition as never)).toThrow(message);
  });

  test("a custom provider that is not configured-able, named like a built-in, or given twice", () => {
    const twin = defineProvider({ ...base, name: "crazyhorse" });
    expect(() => createWebhooks({ customProviders: [twin], providers: { crazyhorse: { secret: "s" } } })).toThrow(
      /"crazyhorse" is built in/,
    );
    expect(() => createWebhooks({ customProviders: [pixelforge, pixelforge], providers: { pixelforge: { secret: "s" } } })).toThrow(
      /given twice/,
    );
    expect(() => createWebhooks({ customProviders: [{ name: "fake" }] as never, providers: { crazyhorse: { secret: "s" } } })).toThrow(
      /made with defineProvider/,
    );
  });

  test("an unknown provider's message says how to add one; an unsupported authentication says what to use", () => {
    expect(() => createWebhooks({ providers: { pixelforge: { secret: "s" } } as never })).toThrow(/pass it in customProviders/);
    const signedOnly = defineProvider({ ...base, name: "signed-only", authentication: ["signature"] });
    expect(() => createWebhooks({ customProviders: [signedOnly], providers: { "signed-only": { secret: "s" } } })).toThrow(
      /cannot be authenticated by token: set providers\.signed-only\.signature/,
    );
    expect(() => createWebhooks({ customProviders: [signedOnly], providers: { "signed-only": {} } })).toThrow(
      /has no secret: set providers\.signed-only\.signature/,
    );
  });

  test("a schema ajv cannot compile names the provider", () => {
    const broken = defineProvider({ ...base, name: "broken", schema: { type: "object", properties: { a: { type: "strng" } } } as never });
    expect(() => createWebhooks({ customProviders: [broken], providers: { broken: { secret: "s" } } })).toThrow(
      /the schema of provider broken does not compile/,
    );
  });
});
