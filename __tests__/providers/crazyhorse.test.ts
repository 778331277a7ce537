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

/** The provider's own example delivery (its webhook page), byte for byte as the fixture holds it. */
const FIXTURE = readFileSync(join(__dirname, "..", "fixtures", "crazyhorse-done.json"), "utf8");
const CODE = "89e78b15d29165008cbfd61ba3bb679f";
const USER_HASH = "ced3e3051c203193952d8b51fe5c9d82";
const SECRET = "crazyhorse-provider-test-token";

type Json = Record<string, unknown>;

/** A fresh, mutable copy of the example. */
function example(): Json {
  return JSON.parse(FIXTURE) as Json;
}

/** The example with one field (a path such as `params.hair` or `generateImageUrls.0`) set or, with `DELETE`, removed. */
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
  return createWebhooks({ providers: { crazyhorse: { secret: SECRET, ...options } } });
}

function deliver(webhooks: Webhooks, body: unknown): Promise<WebhookResponse> {
  return webhooks.receive({
    provider: "crazyhorse",
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

/** Records, in order, which of these event names fire; and every event `*` receives. */
function listen(webhooks: Webhooks, names: string[]) {
  const seen: string[] = [];
  const events: AnyWebhookEvent[] = [];
  const invalid: InvalidDelivery[] = [];
  for (const name of names) webhooks.on(name as "*", () => void seen.push(name));
  webhooks.on("*", (event) => void events.push(event));
  webhooks.on("invalid", (delivery) => void invalid.push(delivery));
  return { seen, events, invalid };
}

const CATALOG = ["crazyhorse.done", "crazyhorse.waiting", "crazyhorse", ...GENERATION_NAMES, "generation", "*"];

/** Delivers a body to a fresh receiver and returns the answer, the event names fired and the event. */
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

/** A 400 with the schema errors listed, nothing emitted, and `invalid` told why. */
async function expectRefused(body: unknown, options: Omit<ProviderOptions, "secret"> = {}) {
  const { answer, seen, events, invalid } = await run(body, options);
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
  expect(invalid).toEqual([expect.objectContaining({ provider: "crazyhorse", status: 400, reason: "schema.invalid" })]);
  return errors;
}

describe("crazyhorse: the provider's example delivery", () => {
  test("the fixture is the example of the provider's page", () => {
    expect(example()).toEqual({
      state: "DONE",
      code: CODE,
      image: `${USER_HASH}/${CODE}.png`,
      generateImageUrls: [`${USER_HASH}/${CODE}/generate-1.png`],
      params: { hair: "red", clothes: "t-shirt, jean", number: 1 },
      createdAt: "2023-10-09T11:11:07.174Z",
    });
  });

  test("is accepted with 200 and the text `success`, the answer the provider documents", async () => {
    const { answer } = await run(FIXTURE);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("success");
    expect(answer.headers["content-type"]).toMatch(/^text\/plain/);
  });

  test("emits crazyhorse.done, crazyhorse, generation.completed, generation and *, in that order", async () => {
    const { seen } = await run(FIXTURE);
    expect(seen).toEqual(["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"]);
  });

  test("the event carries the payload as sent, the provider, the event name and the time of receipt", async () => {
    const before = Date.now();
    const { event } = await run(FIXTURE);
    const after = Date.now();
    expect(event).toBeDefined();
    expect(event?.provider).toBe("crazyhorse");
    expect(event?.name).toBe("crazyhorse.done");
    expect(event?.payload).toEqual(example());
    expect(event?.receivedAt).toBeInstanceOf(Date);
    expect(event?.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(event?.receivedAt.getTime()).toBeLessThanOrEqual(after);
  });

  test("a typed crazyhorse.done listener receives the generated image paths", async () => {
    const webhooks = receiver();
    const urls: string[][] = [];
    webhooks.on("crazyhorse.done", (event) => void urls.push(event.payload.generateImageUrls));
    expect((await deliver(webhooks, FIXTURE)).status).toBe(200);
    expect(urls).toEqual([[`${USER_HASH}/${CODE}/generate-1.png`]]);
  });
});

describe("crazyhorse: fields added later are accepted", () => {
  test("unknown top-level fields", async () => {
    const body = { ...example(), seed: 1234, model: { name: "v2", nsfw: false }, tags: ["a"] };
    const { answer, seen, event } = await run(body);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("success");
    expect(seen).toContain("crazyhorse.done");
    expect(event?.payload).toEqual(body);
  });

  test("unknown keys inside params", async () => {
    const body = exampleWith("params", { hair: "red", style: "anime", steps: 30, extra: { nested: [1, 2] } });
    const { answer, event } = await run(body);
    expect(answer.status).toBe(200);
    expect(event?.generation.params).toEqual({ hair: "red", style: "anime", steps: 30, extra: { nested: [1, 2] } });
  });

  test("every documented param with its documented type", async () => {
    const params = {
      hair: "red",
      pose: "standing",
      body: "slim",
      chest: "medium",
      clothes: "t-shirt, jean",
      background: "beach",
      number: 2,
      loraId: "lora-42",
      debug: true,
      girlId: "girl-7",
    };
    const { answer, event } = await run(exampleWith("params", params));
    expect(answer.status).toBe(200);
    expect(event?.generation.params).toEqual(params);
  });
});

describe("crazyhorse: a known field with the wrong type is refused with 400", () => {
  test.each<[string, unknown, string]>([
    ["state", 42, "/state"],
    ["state", null, "/state"],
    ["state", ["DONE"], "/state"],
    ["code", 89, "/code"],
    ["code", { id: "x" }, "/code"],
    ["image", 1, "/image"],
    ["image", ["a.png"], "/image"],
    ["generateImageUrls", "a/generate-1.png", "/generateImageUrls"],
    ["generateImageUrls", { 0: "a.png" }, "/generateImageUrls"],
    ["generateImageUrls.0", 1, "/generateImageUrls/0"],
    ["generateImageUrls.0", null, "/generateImageUrls/0"],
    ["params", "hair=red", "/params"],
    ["params", ["red"], "/params"],
    ["params", null, "/params"],
    ["params.hair", 1, "/params/hair"],
    ["params.pose", true, "/params/pose"],
    ["params.body", 3, "/params/body"],
    ["params.chest", {}, "/params/chest"],
    ["params.clothes", ["t-shirt", "jean"], "/params/clothes"],
    ["params.background", 0, "/params/background"],
    ["params.number", "1", "/params/number"],
    ["params.loraId", 7, "/params/loraId"],
    ["params.debug", "true", "/params/debug"],
    ["params.girlId", 3, "/params/girlId"],
    ["createdAt", 1696849867174, "/createdAt"],
  ])("%s = %j: problem+json lists instancePath %s", async (path, value, instancePath) => {
    const errors = await expectRefused(exampleWith(path, value));
    expect(errors.map((e) => e.instancePath)).toContain(instancePath);
  });

  test("all the wrong fields of one delivery are listed in one answer", async () => {
    const body = { ...example(), code: 1, image: 2, params: { hair: 3, number: "4" } };
    const errors = await expectRefused(body);
    expect(errors.map((e) => e.instancePath)).toEqual(expect.arrayContaining(["/code", "/image", "/params/hair", "/params/number"]));
  });

  test("the problem document does not echo the values sent", async () => {
    const errors = await expectRefused(exampleWith("code", { leak: "value-that-must-not-be-echoed" }));
    expect(JSON.stringify(errors)).not.toContain("value-that-must-not-be-echoed");
  });

  test.each<[string, unknown]>([
    ["an array", [example()]],
    ["a string", "DONE"],
    ["null", null],
    ["a number", 42],
  ])("a body that is %s, not an object, is refused at instancePath ''", async (_label, body) => {
    const errors = await expectRefused(JSON.stringify(body));
    expect(errors.map((e) => e.instancePath)).toContain("");
  });
});

describe("crazyhorse: required fields", () => {
  test.each(["state", "code"])("a delivery without %s is refused, and the error names it", async (field) => {
    const errors = await expectRefused(exampleWith(field, DELETE));
    const error = errors.find((e) => e.instancePath === "" && e.message.includes(field));
    expect(error).toBeDefined();
  });

  test("both missing: both are listed", async () => {
    const body = example();
    delete body.state;
    delete body.code;
    const errors = await expectRefused(body);
    const messages = errors.filter((e) => e.instancePath === "").map((e) => e.message);
    expect(messages.some((m) => m.includes("state"))).toBe(true);
    expect(messages.some((m) => m.includes("code"))).toBe(true);
  });

  test.each(["state", "code"])("an empty %s is refused: a state and a job id must say something", async (field) => {
    const errors = await expectRefused(exampleWith(field, ""));
    expect(errors.map((e) => e.instancePath)).toContain(`/${field}`);
  });

  test("the optional fields may all be absent (a bare WAITING notice)", async () => {
    const { answer, seen, event } = await run({ state: "WAITING", code: CODE });
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("success");
    expect(seen).toEqual(["crazyhorse.waiting", "crazyhorse", "generation.queued", "generation", "*"]);
    expect(event?.generation.images).toEqual([]);
    expect(event?.generation.params).toEqual({});
    expect(event?.generation.sourceImageUrl).toBeUndefined();
  });
});

describe("crazyhorse: a completed state must carry its images", () => {
  test.each(["DONE", "done", "Done", "SUCCESS", "success", "COMPLETED", "completed", "Completed"])(
    "%s without generateImageUrls is refused with 400, the error naming generateImageUrls",
    async (state) => {
      const body = exampleWith("generateImageUrls", DELETE);
      body.state = state;
      const errors = await expectRefused(body);
      expect(errors.some((e) => e.message.includes("generateImageUrls"))).toBe(true);
    },
  );

  test.each(["WAITING", "waiting", "PROCESSING", "FAILED", "ERROR", "SOMETHING_NEW"])(
    "%s without generateImageUrls is accepted",
    async (state) => {
      const body = exampleWith("generateImageUrls", DELETE);
      body.state = state;
      const { answer, seen } = await run(body, {}, [`crazyhorse.${state.toLowerCase()}`]);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe("success");
      expect(seen).toContain(`crazyhorse.${state.toLowerCase()}`);
    },
  );
});

describe("crazyhorse: unknown states are valid deliveries", () => {
  test.each(["CANCELLED", "IN_PROGRESS", "upscaling", "DONE_PARTIAL"])(
    "%s: 200 `success`, crazyhorse.<state in lower case> then generation.unknown",
    async (state) => {
      const lower = state.toLowerCase();
      const { answer, seen, event } = await run(exampleWith("state", state), {}, [`crazyhorse.${lower}`]);
      expect(answer.status).toBe(200);
      expect(answer.body).toBe("success");
      expect(seen).toEqual([`crazyhorse.${lower}`, "crazyhorse", "generation.unknown", "generation", "*"]);
      expect(event?.name).toBe(`crazyhorse.${lower}`);
      expect(event?.generation.status).toBe("unknown");
      expect(event?.payload).toEqual(exampleWith("state", state));
    },
  );
});

describe("crazyhorse: the status mapping of DESIGN.md, case-insensitive", () => {
  const TABLE: [string, string][] = [
    ["WAITING", "queued"],
    ["PENDING", "queued"],
    ["QUEUED", "queued"],
    ["PROCESSING", "processing"],
    ["RUNNING", "processing"],
    ["ACTIVE", "processing"],
    ["DONE", "completed"],
    ["COMPLETED", "completed"],
    ["SUCCESS", "completed"],
    ["FAILED", "failed"],
    ["ERROR", "failed"],
    // crazyhorse has no "progress" state: anything else is unknown.
    ["PROGRESS", "unknown"],
    ["CANCELED", "unknown"],
    ["TIMEOUT", "unknown"],
  ];
  const rows = TABLE.flatMap(([state, status]): [string, string][] => [
    [state, status],
    [state.toLowerCase(), status],
    [state[0] + state.slice(1).toLowerCase(), status],
  ]);

  test.each(rows)("%s emits generation.%s", async (state, status) => {
    const lower = state.toLowerCase();
    const { answer, seen, event } = await run(exampleWith("state", state), {}, [`crazyhorse.${lower}`]);
    expect(answer.status).toBe(200);
    expect(seen).toEqual([`crazyhorse.${lower}`, "crazyhorse", `generation.${status}`, "generation", "*"]);
    expect(event?.generation.status).toBe(status);
  });
});

describe("crazyhorse: the normalized generation", () => {
  test("the example, with imageBaseUrl ending in a slash", async () => {
    const { event } = await run(FIXTURE, { imageBaseUrl: "https://storage.example.com/" });
    expect(event?.generation).toStrictEqual({
      provider: "crazyhorse",
      id: CODE,
      status: "completed",
      images: [{ url: `https://storage.example.com/${USER_HASH}/${CODE}/generate-1.png` }],
      sourceImageUrl: `https://storage.example.com/${USER_HASH}/${CODE}.png`,
      params: { hair: "red", clothes: "t-shirt, jean", number: 1 },
      createdAt: "2023-10-09T11:11:07.174Z",
    });
    expect(event?.generation.prompt).toBeUndefined();
  });

  test("an imageBaseUrl with a path and no trailing slash keeps its last segment", async () => {
    const { event } = await run(FIXTURE, { imageBaseUrl: "https://cdn.example.com/crazyhorse/v1" });
    expect(event?.generation.images).toEqual([{ url: `https://cdn.example.com/crazyhorse/v1/${USER_HASH}/${CODE}/generate-1.png` }]);
    expect(event?.generation.sourceImageUrl).toBe(`https://cdn.example.com/crazyhorse/v1/${USER_HASH}/${CODE}.png`);
  });

  test("an imageBaseUrl with a path and a trailing slash", async () => {
    const { event } = await run(FIXTURE, { imageBaseUrl: "https://cdn.example.com/crazyhorse/" });
    expect(event?.generation.images).toEqual([{ url: `https://cdn.example.com/crazyhorse/${USER_HASH}/${CODE}/generate-1.png` }]);
    expect(event?.generation.sourceImageUrl).toBe(`https://cdn.example.com/crazyhorse/${USER_HASH}/${CODE}.png`);
  });

  test("absolute URLs are left alone, relative paths beside them are resolved", async () => {
    const body = {
      ...example(),
      image: "https://origin.example.org/src.png",
      generateImageUrls: ["https://other.example.net/a/generate-1.png", "http://plain.example.net/b.png", "u/c/generate-3.png"],
    };
    const { answer, event } = await run(body, { imageBaseUrl: "https://storage.example.com/" });
    expect(answer.status).toBe(200);
    expect(event?.generation.images).toEqual([
      { url: "https://other.example.net/a/generate-1.png" },
      { url: "http://plain.example.net/b.png" },
      { url: "https://storage.example.com/u/c/generate-3.png" },
    ]);
    expect(event?.generation.sourceImageUrl).toBe("https://origin.example.org/src.png");
  });

  test("a failure's reason, where the delivery carries an error, becomes generation.error", async () => {
    const { event } = await run({ state: "FAILED", code: CODE, error: "face not detected" });
    expect(event?.generation).toMatchObject({ status: "failed", error: "face not detected" });
    const { event: bare } = await run({ state: "FAILED", code: CODE });
    expect(bare?.generation).not.toHaveProperty("error");
  });

  test("without imageBaseUrl the paths are given as the provider sent them", async () => {
    const { event } = await run(FIXTURE);
    expect(event?.generation.images).toEqual([{ url: `${USER_HASH}/${CODE}/generate-1.png` }]);
    expect(event?.generation.sourceImageUrl).toBe(`${USER_HASH}/${CODE}.png`);
  });

  test("several generated images keep their order", async () => {
    const urls = [1, 2, 3, 4].map((n) => `${USER_HASH}/${CODE}/generate-${n}.png`);
    const { event } = await run({ ...example(), generateImageUrls: urls }, { imageBaseUrl: "https://s.example.com" });
    expect(event?.generation.images.map((image) => image.url)).toEqual(urls.map((u) => `https://s.example.com/${u}`));
  });

  test("without createdAt, the time of receipt stands in", async () => {
    const before = Date.now();
    const { answer, event } = await run(exampleWith("createdAt", DELETE));
    const after = Date.now();
    expect(answer.status).toBe(200);
    expect(event).toBeDefined();
    const createdAt = event?.generation.createdAt as string;
    expect(createdAt).toBe(event?.receivedAt.toISOString());
    expect(new Date(createdAt).toISOString()).toBe(createdAt);
    expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(createdAt)).toBeLessThanOrEqual(after);
  });

  test("without params, params is an empty object", async () => {
    const { event } = await run(exampleWith("params", DELETE));
    expect(event?.generation.params).toStrictEqual({});
  });

  test("params is a copy: changing it does not change the payload", async () => {
    const { event } = await run(FIXTURE);
    if (!event) throw new Error("no event");
    event.generation.params.hair = "blue";
    expect((event.payload as { params?: Json }).params?.hair).toBe("red");
  });

  test("a param named __proto__ stays an own key and pollutes nothing", async () => {
    const body = FIXTURE.replace('"hair": "red"', '"__proto__": { "polluted": "yes" }, "hair": "red"');
    expect(body).toContain("__proto__");
    const { answer, event } = await run(body);
    expect(answer.status).toBe(200);
    const params = event?.generation.params as Json;
    expect(Object.prototype.hasOwnProperty.call(params, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(params, "__proto__")?.value).toEqual({ polluted: "yes" });
    expect(Object.getPrototypeOf(params)).toBe(Object.prototype);
    expect((params as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(params.hair).toBe("red");
  });
});

describe("crazyhorse: the idempotency key", () => {
  test("event.id is code:state in lower case", async () => {
    const { event } = await run(FIXTURE);
    expect(event?.id).toBe(`${CODE}:done`);
  });

  test.each([
    ["Done", `${CODE}:done`],
    ["WAITING", `${CODE}:waiting`],
    ["Failed", `${CODE}:failed`],
    ["NewState", `${CODE}:newstate`],
  ])("state %s gives %s", async (state, id) => {
    const { event } = await run(exampleWith("state", state));
    expect(event?.id).toBe(id);
  });

  test("the same job and state sent again, in another case, is a duplicate: 200 `success`, emitted once", async () => {
    const webhooks = receiver();
    const done: string[] = [];
    const duplicates: AnyWebhookEvent[] = [];
    webhooks.on("crazyhorse.done", (event) => void done.push(event.id));
    webhooks.on("duplicate", (event) => void duplicates.push(event));
    const first = await deliver(webhooks, FIXTURE);
    const second = await deliver(webhooks, exampleWith("state", "done"));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toBe("success");
    expect(done).toEqual([`${CODE}:done`]);
    expect(duplicates.map((event) => event.id)).toEqual([`${CODE}:done`]);
  });

  test("the same job in two states is two deliveries", async () => {
    const webhooks = receiver();
    const seen: string[] = [];
    webhooks.on("crazyhorse", (event) => void seen.push(event.id));
    const waiting = exampleWith("state", "WAITING");
    delete waiting.generateImageUrls;
    expect((await deliver(webhooks, waiting)).status).toBe(200);
    expect((await deliver(webhooks, FIXTURE)).status).toBe(200);
    expect(seen).toEqual([`${CODE}:waiting`, `${CODE}:done`]);
  });

  test("another job in the same state is another delivery", async () => {
    const webhooks = receiver();
    const seen: string[] = [];
    webhooks.on("crazyhorse.done", (event) => void seen.push(event.generation.id));
    await deliver(webhooks, FIXTURE);
    await deliver(webhooks, exampleWith("code", "0123456789abcdef0123456789abcdef"));
    expect(seen).toEqual([CODE, "0123456789abcdef0123456789abcdef"]);
  });
});

describe("crazyhorse: createdAt must be an RFC 3339 date-time", () => {
  test.each(["2023-10-09T11:11:07Z", "2023-10-09T13:11:07.174+02:00", "2023-10-09t11:11:07.174z"])(
    "%s is accepted and passed on",
    async (createdAt) => {
      const { answer, event } = await run(exampleWith("createdAt", createdAt));
      expect(answer.status).toBe(200);
      expect(event?.generation.createdAt).toBe(createdAt);
    },
  );

  test.each([
    "yesterday",
    "2023-10-09",
    "2023-10-09T11:11:07.174",
    "2023-13-09T11:11:07.174Z",
    "2023-10-09T25:11:07Z",
    "",
    "1696849867174",
  ])("%j is refused with 400 at /createdAt", async (createdAt) => {
    const errors = await expectRefused(exampleWith("createdAt", createdAt));
    expect(errors.map((e) => e.instancePath)).toEqual(["/createdAt"]);
  });
});
