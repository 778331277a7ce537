import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  createWebhooks,
  type AnyWebhookEvent,
  type InvalidDelivery,
  type Problem,
  type ProviderOptions,
  type Webhooks,
  type WebhookResponse,
} from "../../lib/entries/index";

/** PROVIDERS.md's example delivery (the provider's documented shape, values filled in). */
const FIXTURE = readFileSync(join(__dirname, "..", "fixtures", "all-images-print-completed.json"), "utf8");
const SECRET = "all-images-provider-test-token";

type Json = Record<string, unknown>;

function example(): Json {
  return JSON.parse(FIXTURE) as Json;
}

/** The example with one field (a path such as `data.params.0.value`) set or, with `DELETE`, removed. */
const DELETE = Symbol("delete");
function exampleWith(path: string, value: unknown): Json {
  const body = example();
  const keys = path.split(".");
  let target = body as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === DELETE) delete target[last];
  else target[last] = value;
  return body;
}

function receiver(options: Omit<ProviderOptions, "secret"> = {}): Webhooks {
  return createWebhooks({ providers: { "all-images": { secret: SECRET, ...options } } });
}

function deliver(webhooks: Webhooks, body: unknown): Promise<WebhookResponse> {
  return webhooks.receive({
    provider: "all-images",
    headers: { "content-type": "application/json" },
    rawBody: typeof body === "string" ? body : JSON.stringify(body),
    query: { token: SECRET },
  });
}

const GENERATION_NAMES = [
  "generation.queued",
  "generation.processing",
  "generation.progress",
  "generation.completed",
  "generation.failed",
  "generation.unknown",
];

const TYPES = ["print.created", "print.active", "print.progress", "print.completed", "print.failed"];
const CATALOG = [...TYPES.map((t) => `all-images.${t}`), "all-images", ...GENERATION_NAMES, "generation", "*"];

function listen(webhooks: Webhooks, names: string[]) {
  const seen: string[] = [];
  const events: AnyWebhookEvent[] = [];
  const invalid: InvalidDelivery[] = [];
  for (const name of names) webhooks.on(name as "*", () => void seen.push(name));
  webhooks.on("*", (event) => void events.push(event));
  webhooks.on("invalid", (delivery) => void invalid.push(delivery));
  return { seen, events, invalid };
}

async function run(body: unknown, options: Omit<ProviderOptions, "secret"> = {}, extraNames: string[] = []) {
  const webhooks = receiver(options);
  const recorded = listen(webhooks, [...new Set([...extraNames, ...CATALOG])]);
  const answer = await deliver(webhooks, body);
  return { answer, ...recorded, event: recorded.events[0] };
}

function problemOf(answer: WebhookResponse): Problem {
  expect(answer.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.body) as Problem;
  expect(problem.status).toBe(answer.status);
  expect(typeof problem.type).toBe("string");
  expect(typeof problem.title).toBe("string");
  return problem;
}

async function expectRefused(body: unknown) {
  const { answer, seen, events, invalid } = await run(body);
  expect(answer.status).toBe(400);
  const problem = problemOf(answer);
  expect(Array.isArray(problem.errors)).toBe(true);
  const errors = problem.errors ?? [];
  expect(errors.length).toBeGreaterThan(0);
  for (const error of errors) {
    expect(typeof error.instancePath).toBe("string");
    expect(typeof error.message).toBe("string");
  }
  expect(answer.body).not.toContain(SECRET);
  expect(seen).toEqual([]);
  expect(events).toEqual([]);
  expect(invalid).toEqual([expect.objectContaining({ provider: "all-images", status: 400, reason: "schema.invalid" })]);
  return errors;
}

describe("all-images: the documented example delivery", () => {
  test("is accepted with 200", async () => {
    const { answer } = await run(FIXTURE);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"] ?? "").not.toMatch(/problem/);
  });

  test("emits all-images.print.completed, all-images, generation.completed, generation and *, in that order", async () => {
    const { seen } = await run(FIXTURE);
    expect(seen).toEqual(["all-images.print.completed", "all-images", "generation.completed", "generation", "*"]);
  });

  test("the event carries the payload as sent, the provider and the event name", async () => {
    const { event } = await run(FIXTURE);
    expect(event?.provider).toBe("all-images");
    expect(event?.name).toBe("all-images.print.completed");
    expect(event?.payload).toEqual(example());
    expect(event?.receivedAt).toBeInstanceOf(Date);
  });

  test("a typed all-images.print.completed listener reads data", async () => {
    const webhooks = receiver();
    const prompts: (string | undefined)[] = [];
    webhooks.on("all-images.print.completed", (event) => void prompts.push(event.payload.data.prompt));
    expect((await deliver(webhooks, FIXTURE)).status).toBe(200);
    expect(prompts).toEqual(["a lighthouse at dusk, oil painting"]);
  });
});

describe("all-images: fields added later are accepted", () => {
  test("unknown envelope fields", async () => {
    const body = { ...example(), livemode: true, account: { id: "acc_1" }, retries: 2 };
    const { answer, event } = await run(body);
    expect(answer.status).toBe(200);
    expect(event?.payload).toEqual(body);
  });

  test("unknown fields in data, in an image and in a param", async () => {
    const body = example();
    const data = body.data as Json;
    data.model = "sdxl";
    data.seed = { value: 42 };
    (data.images as Json[])[0]!.width = 1024;
    (data.images as Json[])[0]!.meta = { nsfw: false };
    (data.params as Json[])[0]!.type = "enum";
    const { answer, seen, event } = await run(body);
    expect(answer.status).toBe(200);
    expect(seen).toContain("all-images.print.completed");
    expect(event?.payload).toEqual(body);
  });

  test("free-form metaData and titles take any keys", async () => {
    const body = exampleWith("data.metaData", { orderId: 7, nested: { a: [1, "b"] } });
    ((body.data as Json).images as Json[])[0]!.titles = { en: "Lighthouse", fr: "Phare" };
    const { answer } = await run(body);
    expect(answer.status).toBe(200);
  });
});

describe("all-images: a known field with the wrong type is refused with 400", () => {
  test.each<[string, unknown, string]>([
    ["id", 1, "/id"],
    ["id", null, "/id"],
    ["api_version", "1", "/api_version"],
    ["created", "1698674434", "/created"],
    ["type", 3, "/type"],
    ["type", ["print.completed"], "/type"],
    ["data", "gen_6540a1b2c3", "/data"],
    ["data", [], "/data"],
    ["data", null, "/data"],
    ["data.id", 6540, "/data/id"],
    ["data.name", 1, "/data/name"],
    ["data.prompt", ["a", "lighthouse"], "/data/prompt"],
    ["data.status", "3", "/data/status"],
    ["data.status", 3.5, "/data/status"],
    ["data.params", { sujetMode: "landscape" }, "/data/params"],
    ["data.params.0", "sujetMode=landscape", "/data/params/0"],
    ["data.params.0.name", 1, "/data/params/0/name"],
    ["data.params.0.value", 1, "/data/params/0/value"],
    ["data.images", { id: "img_1" }, "/data/images"],
    ["data.images.0", "https://example.invalid/img_1.png", "/data/images/0"],
    ["data.images.0.id", 1, "/data/images/0/id"],
    ["data.images.0.url", { href: "x" }, "/data/images/0/url"],
    ["data.images.0.validate", "true", "/data/images/0/validate"],
    ["data.images.0.free", 0, "/data/images/0/free"],
    ["data.images.0.titles", "Lighthouse", "/data/images/0/titles"],
    ["data.images.0.titles", [], "/data/images/0/titles"],
    ["data.nbImages", "4", "/data/nbImages"],
    ["data.nbImages", 4.5, "/data/nbImages"],
    ["data.tags", "demo", "/data/tags"],
    ["data.tags.0", 1, "/data/tags/0"],
    ["data.metaData", "none", "/data/metaData"],
    ["data.metaData", [], "/data/metaData"],
    ["data.createdAt", 1698674434, "/data/createdAt"],
  ])("%s = %j: problem+json lists instancePath %s", async (path, value, instancePath) => {
    const errors = await expectRefused(exampleWith(path, value));
    expect(errors.map((e) => e.instancePath)).toContain(instancePath);
  });

  test("all the wrong fields of one delivery are listed in one answer", async () => {
    const body = exampleWith("created", "yesterday");
    const data = body.data as Json;
    data.status = "done";
    data.tags = [1];
    const errors = await expectRefused(body);
    expect(errors.map((e) => e.instancePath)).toEqual(expect.arrayContaining(["/created", "/data/status", "/data/tags/0"]));
  });

  test("the problem document does not echo the values sent", async () => {
    const errors = await expectRefused(exampleWith("data.name", { leak: "value-that-must-not-be-echoed" }));
    expect(JSON.stringify(errors)).not.toContain("value-that-must-not-be-echoed");
  });

  test.each<[string, unknown]>([
    ["an array", [example()]],
    ["a string", "print.completed"],
    ["null", null],
  ])("a body that is %s, not an object, is refused at instancePath ''", async (_label, body) => {
    const errors = await expectRefused(JSON.stringify(body));
    expect(errors.map((e) => e.instancePath)).toContain("");
  });
});

describe("all-images: required fields", () => {
  test.each<[string, string, string]>([
    ["id", "", "id"],
    ["type", "", "type"],
    ["data", "", "data"],
    ["data.id", "/data", "id"],
  ])("a delivery without %s is refused, the error at %j naming it", async (path, instancePath, field) => {
    const errors = await expectRefused(exampleWith(path, DELETE));
    expect(errors.some((e) => e.instancePath === instancePath && e.message.includes(field))).toBe(true);
  });

  test.each(["id", "type", "data.id"])("an empty %s is refused", async (path) => {
    const errors = await expectRefused(exampleWith(path, ""));
    expect(errors.map((e) => e.instancePath)).toContain(`/${path.replace(".", "/")}`);
  });

  test("a param without its value, and an image without its url, are refused", async () => {
    const body = example();
    const data = body.data as Json;
    data.params = [{ name: "sujetMode" }];
    data.images = [{ id: "img_1" }];
    const errors = await expectRefused(body);
    const paths = errors.map((e) => e.instancePath);
    expect(paths).toContain("/data/params/0");
    expect(paths).toContain("/data/images/0");
  });

  test("the optional fields may all be absent", async () => {
    const { answer, seen, event } = await run({ id: "evt_min", type: "print.created", data: { id: "gen_min" } });
    expect(answer.status).toBe(200);
    expect(seen).toEqual(["all-images.print.created", "all-images", "generation.queued", "generation", "*"]);
    expect(event?.generation.images).toEqual([]);
    expect(event?.generation.params).toEqual({});
  });
});

describe("all-images: unknown types are valid deliveries", () => {
  test.each(["print.deleted", "print.upscaled", "image.validated", "billing.invoice.paid"])(
    "%s: 200, all-images.<type> then generation.unknown",
    async (type) => {
      const { answer, seen, event } = await run(exampleWith("type", type), {}, [`all-images.${type}`]);
      expect(answer.status).toBe(200);
      expect(seen).toEqual([`all-images.${type}`, "all-images", "generation.unknown", "generation", "*"]);
      expect(event?.name).toBe(`all-images.${type}`);
      expect(event?.generation.status).toBe("unknown");
    },
  );
});

describe("all-images: the status mapping of DESIGN.md", () => {
  test.each([
    ["print.created", "queued"],
    ["print.active", "processing"],
    ["print.progress", "progress"],
    ["print.completed", "completed"],
    ["print.failed", "failed"],
    ["print.canceled", "unknown"],
    ["print", "unknown"],
    ["created", "unknown"],
  ])("%s emits generation.%s", async (type, status) => {
    const { answer, seen, event } = await run(exampleWith("type", type), {}, [`all-images.${type}`]);
    expect(answer.status).toBe(200);
    expect(seen).toEqual([`all-images.${type}`, "all-images", `generation.${status}`, "generation", "*"]);
    expect(event?.generation.status).toBe(status);
  });

  test("the status comes from type, not from data.status", async () => {
    const body = exampleWith("type", "print.failed");
    (body.data as Json).status = 3; // "Done" in data, but the event says failed
    const { seen } = await run(body);
    expect(seen).toContain("generation.failed");
    expect(seen).not.toContain("generation.completed");
  });
});

describe("all-images: the normalized generation", () => {
  test("the example", async () => {
    const { event } = await run(FIXTURE);
    expect(event?.generation).toStrictEqual({
      provider: "all-images",
      id: "gen_6540a1b2c3",
      status: "completed",
      images: [{ url: "https://example.invalid/img_1.png", id: "img_1" }],
      prompt: "a lighthouse at dusk, oil painting",
      params: { sujetMode: "landscape" },
      createdAt: "2023-10-30T14:10:34.002Z",
    });
    expect(event?.generation.sourceImageUrl).toBeUndefined();
  });

  test("a failure's reason, where data carries an error, becomes generation.error", async () => {
    const failed = { ...exampleWith("data.error", "quota exceeded"), type: "print.failed" };
    const { event } = await run(failed);
    expect(event?.generation).toMatchObject({ status: "failed", error: "quota exceeded" });
    const { event: bare } = await run({ ...example(), type: "print.failed" });
    expect(bare?.generation).not.toHaveProperty("error");
  });

  test("params [{name, value}] becomes an object", async () => {
    const params = [
      { name: "sujetMode", value: "landscape" },
      { name: "style", value: "oil" },
      { name: "ratio", value: "16:9" },
    ];
    const { event } = await run(exampleWith("data.params", params));
    expect(event?.generation.params).toStrictEqual({ sujetMode: "landscape", style: "oil", ratio: "16:9" });
  });

  test("a param named __proto__ stays an own key and pollutes nothing", async () => {
    const params = [
      { name: "__proto__", value: "polluted" },
      { name: "constructor", value: "also-a-param" },
      { name: "sujetMode", value: "landscape" },
    ];
    const { answer, event } = await run(exampleWith("data.params", params));
    expect(answer.status).toBe(200);
    const normalized = event?.generation.params as Json;
    expect(Object.prototype.hasOwnProperty.call(normalized, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(normalized, "__proto__")?.value).toBe("polluted");
    expect(Object.getOwnPropertyDescriptor(normalized, "constructor")?.value).toBe("also-a-param");
    expect(Object.getPrototypeOf(normalized)).toBe(Object.prototype);
    expect(normalized.sujetMode).toBe("landscape");
    expect(Object.keys(normalized).sort()).toEqual(["__proto__", "constructor", "sujetMode"]);
    expect(({} as Json).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
  });

  test("relative image urls resolve against imageBaseUrl; absolute ones are left alone", async () => {
    const images = [
      { id: "img_1", url: "https://example.invalid/img_1.png" },
      { id: "img_2", url: "gen_6540a1b2c3/img_2.png" },
      { url: "http://plain.example.net/img_3.png" },
    ];
    const { event } = await run(exampleWith("data.images", images), { imageBaseUrl: "https://cdn.all-images.example/" });
    expect(event?.generation.images).toStrictEqual([
      { url: "https://example.invalid/img_1.png", id: "img_1" },
      { url: "https://cdn.all-images.example/gen_6540a1b2c3/img_2.png", id: "img_2" },
      { url: "http://plain.example.net/img_3.png" },
    ]);
  });

  test("an imageBaseUrl with a path and no trailing slash keeps its last segment", async () => {
    const { event } = await run(exampleWith("data.images", [{ id: "i", url: "gen/i.png" }]), {
      imageBaseUrl: "https://cdn.example.com/all-images/prints",
    });
    expect(event?.generation.images).toEqual([{ url: "https://cdn.example.com/all-images/prints/gen/i.png", id: "i" }]);
  });

  test("without imageBaseUrl, urls are given as sent", async () => {
    const { event } = await run(exampleWith("data.images", [{ id: "i", url: "gen/i.png" }]));
    expect(event?.generation.images).toEqual([{ url: "gen/i.png", id: "i" }]);
  });

  test("without prompt, prompt is absent", async () => {
    const { event } = await run(exampleWith("data.prompt", DELETE));
    expect(event?.generation.prompt).toBeUndefined();
    expect(event && "prompt" in event.generation).toBe(false);
  });

  test("without data.createdAt, createdAt comes from the envelope's created (Unix seconds)", async () => {
    const { answer, event } = await run(exampleWith("data.createdAt", DELETE));
    expect(answer.status).toBe(200);
    expect(event?.generation.createdAt).toBe(new Date(1698674434 * 1000).toISOString());
    expect(event?.generation.createdAt).toBe("2023-10-30T14:00:34.000Z");
  });

  test("without either, the time of receipt stands in", async () => {
    const body = exampleWith("data.createdAt", DELETE);
    delete body.created;
    const before = Date.now();
    const { answer, event } = await run(body);
    const after = Date.now();
    expect(answer.status).toBe(200);
    const createdAt = event?.generation.createdAt as string;
    expect(createdAt).toBe(event?.receivedAt.toISOString());
    expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(createdAt)).toBeLessThanOrEqual(after);
  });

  test("a created outside the Date range does not break the delivery: the time of receipt stands in", async () => {
    const body = exampleWith("data.createdAt", DELETE);
    body.created = 1e20;
    const { answer, event } = await run(body);
    expect(answer.status).toBe(200);
    expect(event?.generation.createdAt).toBe(event?.receivedAt.toISOString());
  });
});

describe("all-images: the idempotency key", () => {
  test("event.id is the envelope id", async () => {
    const { event } = await run(FIXTURE);
    expect(event?.id).toBe("evt_01HF2Y7Q4J3K");
    expect(event?.generation.id).toBe("gen_6540a1b2c3");
  });

  test("the same envelope id sent again is a duplicate: 200, emitted once", async () => {
    const webhooks = receiver();
    const completed: string[] = [];
    const duplicates: string[] = [];
    webhooks.on("all-images.print.completed", (event) => void completed.push(event.id));
    webhooks.on("duplicate", (event) => void duplicates.push(event.id));
    expect((await deliver(webhooks, FIXTURE)).status).toBe(200);
    const again = await deliver(webhooks, FIXTURE);
    expect(again.status).toBe(200);
    expect(completed).toEqual(["evt_01HF2Y7Q4J3K"]);
    expect(duplicates).toEqual(["evt_01HF2Y7Q4J3K"]);
  });

  test("two deliveries about the same generation, with their own ids, are both emitted", async () => {
    const webhooks = receiver();
    const seen: string[] = [];
    webhooks.on("all-images", (event) => void seen.push(`${event.id} ${event.name}`));
    await deliver(webhooks, { ...exampleWith("type", "print.progress"), id: "evt_progress" });
    await deliver(webhooks, FIXTURE);
    expect(seen).toEqual(["evt_progress all-images.print.progress", "evt_01HF2Y7Q4J3K all-images.print.completed"]);
  });
});

describe("all-images: data.createdAt must be an RFC 3339 date-time", () => {
  test.each(["2023-10-30T14:10:34Z", "2023-10-30T16:10:34.002+02:00"])("%s is accepted and passed on", async (createdAt) => {
    const { answer, event } = await run(exampleWith("data.createdAt", createdAt));
    expect(answer.status).toBe(200);
    expect(event?.generation.createdAt).toBe(createdAt);
  });

  test.each(["last tuesday", "2023-10-30", "2023-10-30T14:10:34.002", "2023-02-30T14:10:34Z", ""])(
    "%j is refused with 400 at /data/createdAt",
    async (createdAt) => {
      const errors = await expectRefused(exampleWith("data.createdAt", createdAt));
      expect(errors.map((e) => e.instancePath)).toEqual(["/data/createdAt"]);
    },
  );
});
