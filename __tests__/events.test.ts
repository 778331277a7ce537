import {
  createWebhooks,
  InvalidListenerError,
  type WebhookHandlerError,
  type WebhooksOptions,
  type InvalidDelivery,
  type AnyWebhookEvent,
} from "../lib/entries/index";
import { allImagesDelivery, crazyhorseDelivery, crazyhorseExample, allImagesExample } from "../lib/entries/testing";
import { deferred } from "./helpers/deferred";

const SECRET = "crazyhorse-secret-for-tests";
const ALL_IMAGES_SECRET = "all-images-secret-for-tests";

function receiver(options: Partial<WebhooksOptions> = {}) {
  return createWebhooks({
    providers: { crazyhorse: { secret: SECRET }, "all-images": { secret: ALL_IMAGES_SECRET } },
    ...options,
  });
}

type Receiver = ReturnType<typeof receiver>;

function deliver(webhooks: Receiver, provider: "crazyhorse" | "all-images", body: unknown, token?: string) {
  return webhooks.receive({
    provider,
    headers: { "content-type": "application/json" },
    rawBody: typeof body === "string" ? body : JSON.stringify(body),
    query: { token: token ?? (provider === "crazyhorse" ? SECRET : ALL_IMAGES_SECRET) },
  });
}

/** Records every event name the receiver emits, in order. */
function record(webhooks: Receiver, names: string[]): string[] {
  const seen: string[] = [];
  for (const name of names) webhooks.on(name as "*", () => void seen.push(name));
  return seen;
}

const ALL_NAMES = [
  "crazyhorse.done",
  "crazyhorse.waiting",
  "crazyhorse",
  "all-images.print.completed",
  "all-images.print.created",
  "all-images",
  "generation.queued",
  "generation.processing",
  "generation.progress",
  "generation.completed",
  "generation.failed",
  "generation.unknown",
  "generation",
  "*",
  "invalid",
  "duplicate",
  "error",
];

describe("the event catalog", () => {
  test("a crazyhorse delivery emits its own event, the provider's, generation.<status>, generation, then *", async () => {
    const webhooks = receiver();
    const seen = record(webhooks, ALL_NAMES);
    const answer = await deliver(webhooks, "crazyhorse", crazyhorseExample);
    expect(answer.status).toBe(200);
    expect(answer.body).toBe("success");
    expect(seen).toEqual(["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"]);
  });

  test("an all-images delivery emits all-images.<type>, all-images, generation.<status>, generation, then *", async () => {
    const webhooks = receiver();
    const seen = record(webhooks, ALL_NAMES);
    const answer = await deliver(webhooks, "all-images", allImagesExample);
    expect(answer.status).toBe(200);
    expect(seen).toEqual(["all-images.print.completed", "all-images", "generation.completed", "generation", "*"]);
  });

  test.each([
    ["crazyhorse", { state: "WAITING" }, "crazyhorse.waiting", "generation.queued"],
    ["crazyhorse", { state: "Processing" }, "crazyhorse.processing", "generation.processing"],
    ["crazyhorse", { state: "FAILED" }, "crazyhorse.failed", "generation.failed"],
    ["crazyhorse", { state: "UPSCALING" }, "crazyhorse.upscaling", "generation.unknown"],
  ] as const)("%s with %j emits %s and %s", async (_provider, overrides, name, generationName) => {
    const webhooks = receiver();
    const seen: string[] = [];
    webhooks.on("*", (event) => void seen.push(event.name));
    webhooks.on(generationName, () => void seen.push(generationName));
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery(overrides));
    expect(seen).toEqual([generationName, name]);
  });

  test.each([
    ["print.created", "generation.queued"],
    ["print.active", "generation.processing"],
    ["print.progress", "generation.progress"],
    ["print.completed", "generation.completed"],
    ["print.failed", "generation.failed"],
    ["print.archived", "generation.unknown"],
  ] as const)("all-images type %s emits all-images.<type> and %s", async (type, generationName) => {
    const webhooks = receiver();
    const seen: string[] = [];
    webhooks.on(generationName, (event) => void seen.push(`${generationName} ${event.name}`));
    await deliver(webhooks, "all-images", allImagesDelivery(type));
    expect(seen).toEqual([`${generationName} all-images.${type}`]);
  });

  test("every listener receives the same WebhookEvent: id, provider, name, payload, generation, receivedAt", async () => {
    const webhooks = receiver();
    const events: AnyWebhookEvent[] = [];
    for (const name of ["crazyhorse.done", "crazyhorse", "generation.completed", "generation", "*"] as const) {
      webhooks.on(name, (event: AnyWebhookEvent) => void events.push(event));
    }
    const before = Date.now();
    await deliver(webhooks, "crazyhorse", crazyhorseExample);
    expect(events).toHaveLength(5);
    expect(new Set(events).size).toBe(1);
    const event = events[0]!;
    expect(event).toMatchObject({
      id: `${crazyhorseExample.code}:done`,
      provider: "crazyhorse",
      name: "crazyhorse.done",
      payload: crazyhorseExample,
      generation: { provider: "crazyhorse", id: crazyhorseExample.code, status: "completed" },
    });
    expect(event.receivedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  test("once() listeners run for the first delivery only", async () => {
    const webhooks = receiver();
    let calls = 0;
    webhooks.once("generation", () => void calls++);
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    expect(calls).toBe(1);
    expect(webhooks.listenerCount("generation")).toBe(0);
  });

  test("off() removes a listener", async () => {
    const webhooks = receiver();
    const listener = jest.fn();
    webhooks.on("*", listener);
    webhooks.off("*", listener);
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    expect(listener).not.toHaveBeenCalled();
  });
});

describe("async listeners", () => {
  test("are awaited one after another before the answer", async () => {
    const webhooks = receiver();
    const steps: string[] = [];
    webhooks.on("crazyhorse.done", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      steps.push("done finished");
    });
    webhooks.on("generation", () => void steps.push("generation started"));
    webhooks.on("*", async () => {
      await Promise.resolve();
      steps.push("* finished");
    });
    const answer = await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    steps.push("answered");
    expect(answer.status).toBe(200);
    expect(steps).toEqual(["done finished", "generation started", "* finished", "answered"]);
  });

  test("an async once() listener after an awaited one still runs once", async () => {
    const webhooks = receiver();
    const calls: string[] = [];
    webhooks.on("crazyhorse", async () => void calls.push("first"));
    webhooks.once("crazyhorse", () => void calls.push("once"));
    webhooks.on("crazyhorse", () => void calls.push("last"));
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    expect(calls).toEqual(["first", "once", "last", "first", "last"]);
  });
});

describe("a failing listener", () => {
  test.each([
    [
      "throws",
      () => {
        throw new Error("database down");
      },
    ],
    [
      "rejects",
      async () => {
        await Promise.resolve();
        throw new Error("database down");
      },
    ],
  ])("that %s: 500, error emitted with the event, later listeners skipped, and the retry is handled", async (_how, failing) => {
    const webhooks = receiver();
    const errors: WebhookHandlerError[] = [];
    webhooks.on("error", (err) => void errors.push(err));
    const after = jest.fn();
    let fail = true;
    webhooks.on("crazyhorse.done", (event) => (fail ? failing() : undefined) ?? event);
    webhooks.on("*", after);
    const body = crazyhorseDelivery();

    const first = await deliver(webhooks, "crazyhorse", body);
    expect(first.status).toBe(500);
    expect(first.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(first.body)).toMatchObject({ status: 500, title: expect.any(String), type: expect.any(String) });
    expect(first.body).not.toContain("database down");
    expect(after).not.toHaveBeenCalled();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(Error);
    expect(errors[0]!.event?.id).toBe(`${body.code}:done`);
    expect(errors[0]!.eventName).toBe("crazyhorse.done");
    expect((errors[0]!.cause as Error).message).toBe("database down");

    fail = false;
    const retry = await deliver(webhooks, "crazyhorse", body);
    expect(retry.status).toBe(200);
    expect(after).toHaveBeenCalledTimes(1);
  });

  test("with no error listener does not crash the process: the error goes to the logger", async () => {
    const logged: { obj: object; msg?: string }[] = [];
    const log = (obj: object, msg?: string) => void logged.push({ obj, msg });
    const webhooks = receiver({ logger: { debug: () => {}, info: () => {}, warn: () => {}, error: log } });
    webhooks.on("generation", () => {
      throw new Error("boom");
    });
    const answer = await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    expect(answer.status).toBe(500);
    expect(logged).toHaveLength(1);
    expect(logged[0]!.msg).toMatch(/listener failed/);
  });

  test("an error listener that throws itself is logged, not thrown", async () => {
    const errorLog = jest.fn();
    const webhooks = receiver({ logger: { debug: () => {}, info: () => {}, warn: () => {}, error: errorLog } });
    webhooks.on("error", () => {
      throw new Error("the error handler broke");
    });
    webhooks.on("*", () => {
      throw new Error("boom");
    });
    await expect(deliver(webhooks, "crazyhorse", crazyhorseDelivery())).resolves.toMatchObject({ status: 500 });
    expect(errorLog).toHaveBeenCalledTimes(1);
  });
});

describe("listeners slower than handlerTimeoutMs", () => {
  test("get 202 while they go on; the key is then completed", async () => {
    const webhooks = receiver({ handlerTimeoutMs: 20 });
    const hold = deferred();
    const finished = jest.fn();
    webhooks.on("crazyhorse.done", async () => {
      await hold.promise;
      finished();
    });
    const duplicates = jest.fn();
    webhooks.on("duplicate", duplicates);
    const body = crazyhorseDelivery();

    const answer = await deliver(webhooks, "crazyhorse", body);
    expect(answer.status).toBe(202);
    expect(finished).not.toHaveBeenCalled();
    // Still in flight: a copy is asked to come back later.
    const copy = await deliver(webhooks, "crazyhorse", body);
    expect(copy.status).toBe(409);
    expect(copy.headers["retry-after"]).toMatch(/^\d+$/);

    hold.resolve();
    await webhooks.close();
    expect(finished).toHaveBeenCalledTimes(1);
  });

  test("a failure after the 202 is reported through error and releases the key", async () => {
    const webhooks = receiver({ handlerTimeoutMs: 20 });
    const hold = deferred();
    const errors: WebhookHandlerError[] = [];
    webhooks.on("error", (err) => void errors.push(err));
    let calls = 0;
    webhooks.on("crazyhorse.done", async () => {
      calls++;
      if (calls === 1) await hold.promise;
    });
    const body = crazyhorseDelivery();
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(202);
    hold.reject(new Error("late failure"));
    await webhooks.close().catch(() => undefined);
    expect(errors).toHaveLength(1);
    expect((errors[0]!.cause as Error).message).toBe("late failure");
    expect(errors[0]!.event?.name).toBe("crazyhorse.done");
  });

  test("a failure after the 202 lets the provider's redelivery be handled", async () => {
    const webhooks = receiver({ handlerTimeoutMs: 20 });
    const hold = deferred();
    webhooks.on("error", () => {});
    const handled = jest.fn();
    let calls = 0;
    webhooks.on("crazyhorse.done", async () => {
      calls++;
      if (calls === 1) await hold.promise;
      handled();
    });
    const body = crazyhorseDelivery();
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(202);
    hold.reject(new Error("late failure"));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(200);
    expect(handled).toHaveBeenCalledTimes(1);
  });
});

describe("dedupe", () => {
  test("a repeat is answered as handled and emitted as duplicate, not again", async () => {
    const webhooks = receiver();
    const seen = record(webhooks, ALL_NAMES);
    const duplicates: AnyWebhookEvent[] = [];
    webhooks.on("duplicate", (event) => void duplicates.push(event));
    const body = allImagesDelivery("print.completed");
    await deliver(webhooks, "all-images", body);
    seen.length = 0;
    const answer = await deliver(webhooks, "all-images", body);
    expect(answer.status).toBe(200);
    expect(seen).toEqual(["duplicate"]);
    expect(duplicates[0]!.id).toBe(body.id);
  });

  test("crazyhorse keys on code and state: the next state of the same job is not a duplicate", async () => {
    const webhooks = receiver();
    const names: string[] = [];
    webhooks.on("*", (event) => void names.push(event.name));
    const code = "0123456789abcdef0123456789abcdef";
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "WAITING" }));
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "DONE" }));
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery({ code, state: "done" }));
    expect(names).toEqual(["crazyhorse.waiting", "crazyhorse.done"]);
  });

  test("keys are per provider: the same id from two providers is two deliveries", async () => {
    const webhooks = receiver();
    const names: string[] = [];
    webhooks.on("*", (event) => void names.push(event.name));
    await deliver(webhooks, "all-images", allImagesDelivery("print.completed", { id: "same" }));
    await deliver(webhooks, "crazyhorse", crazyhorseDelivery({ code: "same", state: "X" }));
    expect(names).toEqual(["all-images.print.completed", "crazyhorse.x"]);
  });

  test("dedupe: false emits every copy", async () => {
    const webhooks = receiver({ dedupe: false });
    const listener = jest.fn();
    webhooks.on("*", listener);
    const body = crazyhorseDelivery();
    await deliver(webhooks, "crazyhorse", body);
    await deliver(webhooks, "crazyhorse", body);
    expect(listener).toHaveBeenCalledTimes(2);
  });

  test("a store that cannot be reached: 503 with Retry-After, nothing emitted, and the retry is handled once it is back", async () => {
    let down = true;
    const inner = new Map<string, "in-flight" | "done">();
    const store = {
      claim: async (key: string) => {
        if (down) throw new Error("ECONNREFUSED");
        const known = inner.get(key);
        if (known) return known;
        inner.set(key, "in-flight");
        return "claimed" as const;
      },
      complete: async (key: string) => void inner.set(key, "done"),
      release: async (key: string) => void inner.delete(key),
    };
    const webhooks = receiver({ dedupe: store });
    const listener = jest.fn();
    webhooks.on("*", listener);
    const body = crazyhorseDelivery();
    const answer = await deliver(webhooks, "crazyhorse", body);
    expect(answer.status).toBe(503);
    expect(answer.headers["retry-after"]).toMatch(/^\d+$/);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    expect(listener).not.toHaveBeenCalled();
    down = false;
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(200);
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(200);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  test("dedupeFailOpen: a store that cannot be reached lets the delivery through undeduplicated, and a warning is logged", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_: object, msg?: string) => void warnings.push(msg ?? "") };
    const store = {
      claim: async () => Promise.reject(new Error("ECONNREFUSED")),
      complete: jest.fn(),
      release: jest.fn(),
    };
    const webhooks = receiver({ dedupe: store, dedupeFailOpen: true, logger });
    const listener = jest.fn();
    webhooks.on("*", listener);
    const body = crazyhorseDelivery();
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(200);
    expect((await deliver(webhooks, "crazyhorse", body)).status).toBe(200);
    // Without the store, the retry is handled again: the trade the option makes.
    expect(listener).toHaveBeenCalledTimes(2);
    expect(store.complete).not.toHaveBeenCalled();
    expect(warnings).toEqual([expect.stringContaining("dedupeFailOpen"), expect.stringContaining("dedupeFailOpen")]);
  });
});

describe("invalid deliveries", () => {
  const cases: [string, (w: Receiver) => ReturnType<Receiver["receive"]>, number, string][] = [
    ["a wrong token", (w) => deliver(w, "crazyhorse", crazyhorseDelivery(), "not-the-secret"), 401, "auth.failed"],
    [
      "no content type",
      (w) => w.receive({ provider: "crazyhorse", rawBody: JSON.stringify(crazyhorseDelivery()), query: `token=${SECRET}` }),
      415,
      "content-type.unsupported",
    ],
    ["malformed JSON", (w) => deliver(w, "crazyhorse", '{"state": "DONE",'), 400, "json.malformed"],
    ["a schema failure", (w) => deliver(w, "crazyhorse", { ...crazyhorseDelivery(), code: 42 }), 400, "schema.invalid"],
    [
      "a body over the limit",
      (w) => deliver(w, "crazyhorse", { ...crazyhorseDelivery(), padding: "x".repeat(200 * 1024) }),
      413,
      "entity.too.large",
    ],
  ];

  test.each(cases)("%s: refused, only invalid is emitted, with no secret and no body", async (_name, send, status, reason) => {
    const webhooks = receiver();
    const seen = record(
      webhooks,
      ALL_NAMES.filter((name) => name !== "invalid"),
    );
    const invalid: InvalidDelivery[] = [];
    webhooks.on("invalid", (delivery) => void invalid.push(delivery));
    const answer = await send(webhooks);
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
    const problem = JSON.parse(answer.body);
    expect(problem).toMatchObject({ status, type: expect.stringContaining(reason), title: expect.any(String) });
    expect(answer.body).not.toContain(SECRET);
    expect(answer.body).not.toContain("DONE");
    expect(seen).toEqual([]);
    expect(invalid).toEqual([
      { provider: "crazyhorse", status, reason, ...(reason === "schema.invalid" && { errors: expect.any(Array) }) },
    ]);
    expect(JSON.stringify(invalid)).not.toContain(SECRET);
  });

  test("a schema failure lists its errors with instancePath and message", async () => {
    const webhooks = receiver();
    const answer = await deliver(webhooks, "all-images", { ...allImagesDelivery(), data: { id: "g", status: "done", images: [{}] } });
    expect(answer.status).toBe(400);
    const problem = JSON.parse(answer.body);
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { instancePath: "/data/status", message: "must be integer" },
        { instancePath: "/data/images/0", message: "must have required property 'url'" },
      ]),
    );
  });

  test("an invalid listener that throws does not change the answer: its failure goes to the logger, not to error (which always has a delivery)", async () => {
    const logged: unknown[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (fields: unknown) => void logged.push(fields) };
    const webhooks = receiver({ logger });
    const errors: WebhookHandlerError[] = [];
    webhooks.on("error", (err) => void errors.push(err));
    webhooks.on("invalid", () => {
      throw new Error("listener bug");
    });
    expect((await deliver(webhooks, "crazyhorse", crazyhorseDelivery(), "wrong")).status).toBe(401);
    expect(errors).toEqual([]);
    expect(logged).toEqual([
      expect.objectContaining({ eventName: "invalid", provider: "crazyhorse", err: expect.any(InvalidListenerError) }),
    ]);
    const [{ err }] = logged as [{ err: InvalidListenerError }];
    expect(err.invalid).toMatchObject({ provider: "crazyhorse", status: 401, reason: "auth.failed" });
    expect((err.cause as Error).message).toBe("listener bug");
  });

  describe("a failing listener that nothing hears (no error listener, no logger)", () => {
    afterEach(() => jest.restoreAllMocks());

    test("warns once per receiver through process.emitWarning, saying how to listen", async () => {
      const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
      const webhooks = receiver();
      webhooks.on("crazyhorse.done", () => {
        throw new Error("listener bug");
      });
      expect((await deliver(webhooks, "crazyhorse", crazyhorseDelivery())).status).toBe(500);
      expect((await deliver(webhooks, "crazyhorse", crazyhorseDelivery())).status).toBe(500);
      expect(warnings).toHaveBeenCalledTimes(1);
      expect(warnings.mock.calls[0]![0]).toContain('webhooks.on("error"');
      expect(warnings.mock.calls[0]![0]).toContain("logger: console");
      expect(warnings.mock.calls[0]![1]).toMatchObject({ type: "ImagegenWebhooksWarning" });
    });

    test("a failing invalid listener warns too, saying to pass a logger", async () => {
      const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
      const webhooks = receiver();
      webhooks.on("invalid", () => {
        throw new Error("listener bug");
      });
      expect((await deliver(webhooks, "crazyhorse", crazyhorseDelivery(), "wrong")).status).toBe(401);
      expect(warnings).toHaveBeenCalledTimes(1);
      expect(warnings.mock.calls[0]![0]).toContain("logger: console");
    });

    test("an error listener or a logger hears it instead: no warning", async () => {
      const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
      const heard = receiver();
      const errors: WebhookHandlerError[] = [];
      heard.on("error", (err) => void errors.push(err));
      const logged = jest.fn();
      const logging = receiver({ logger: { debug() {}, info() {}, warn() {}, error: logged } });
      for (const webhooks of [heard, logging]) {
        webhooks.on("crazyhorse.done", () => {
          throw new Error("listener bug");
        });
        expect((await deliver(webhooks, "crazyhorse", crazyhorseDelivery())).status).toBe(500);
      }
      expect(errors.map((err) => err.event.id)).toHaveLength(1);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(warnings).not.toHaveBeenCalled();
    });
  });

  test("receive() with a provider that is not configured answers 404", async () => {
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } } });
    const answer = await deliver(webhooks, "all-images", allImagesDelivery());
    expect(answer.status).toBe(404);
    expect(answer.headers["content-type"]).toBe("application/problem+json");
  });
});

describe("close()", () => {
  test("stops accepting with 503 and Retry-After, and waits for the listeners in flight", async () => {
    const webhooks = receiver();
    const hold = deferred();
    const finished = jest.fn();
    webhooks.on("crazyhorse.done", async () => {
      await hold.promise;
      finished();
    });
    const inFlight = deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    await new Promise((resolve) => setImmediate(resolve));
    let closed = false;
    const closing = webhooks.close().then(() => (closed = true));

    const refused = await deliver(webhooks, "crazyhorse", crazyhorseDelivery());
    expect(refused.status).toBe(503);
    expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(closed).toBe(false);

    hold.resolve();
    await closing;
    expect(finished).toHaveBeenCalledTimes(1);
    expect((await inFlight).status).toBe(200);
  });
});
