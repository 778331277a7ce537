import fc from "fast-check";
import { createWebhooks, MemoryStore, memoryStore, type DedupeStore, type MemoryStoreOptions } from "../../lib/entries/index";

/** A clock the test moves by hand. */
function clock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => void (now += ms),
  };
}

describe("MemoryStore: claim, complete, release", () => {
  test("a new key is claimed; claimed again while in flight it answers in-flight", () => {
    const store = new MemoryStore();
    expect(store.claim("crazyhorse:a:done")).toBe("claimed");
    expect(store.claim("crazyhorse:a:done")).toBe("in-flight");
    expect(store.claim("crazyhorse:a:done")).toBe("in-flight");
  });

  test("a completed key answers done", () => {
    const store = new MemoryStore();
    store.claim("k");
    store.complete("k");
    expect(store.claim("k")).toBe("done");
    expect(store.claim("k")).toBe("done");
  });

  test("keys are independent", () => {
    const store = new MemoryStore();
    expect(store.claim("a")).toBe("claimed");
    store.complete("a");
    expect(store.claim("b")).toBe("claimed");
    expect(store.claim("a")).toBe("done");
    expect(store.claim("b")).toBe("in-flight");
    expect(store.size).toBe(2);
  });

  test("a released key can be claimed again, and goes through the same states", () => {
    const store = new MemoryStore();
    store.claim("k");
    store.release("k");
    expect(store.claim("k")).toBe("claimed");
    expect(store.claim("k")).toBe("in-flight");
    store.complete("k");
    expect(store.claim("k")).toBe("done");
  });

  test("releasing a key frees its entry", () => {
    const store = new MemoryStore();
    store.claim("a");
    store.claim("b");
    store.release("a");
    expect(store.size).toBe(1);
  });

  test("complete or release of a key never claimed is harmless and claims nothing", () => {
    const store = new MemoryStore();
    store.complete("never");
    store.release("never-either");
    expect(store.size).toBe(0);
    expect(store.claim("never")).toBe("claimed");
  });

  test("memoryStore() builds a MemoryStore with the documented defaults", () => {
    const store = memoryStore();
    expect(store).toBeInstanceOf(MemoryStore);
    expect(store.maxEntries).toBe(50_000);
    expect(store.ttlMs).toBe(24 * 60 * 60 * 1000);
    const custom = memoryStore({ maxEntries: 10, ttlMs: 1000 });
    expect(custom.maxEntries).toBe(10);
    expect(custom.ttlMs).toBe(1000);
    const asStore: DedupeStore = custom;
    expect(asStore.claim("x")).toBe("claimed");
  });
});

describe("MemoryStore: time to live, with the injectable clock", () => {
  test("an in-flight key expires after ttlMs and can be claimed again", () => {
    const time = clock();
    const store = memoryStore({ ttlMs: 1000, now: time.now });
    expect(store.claim("k")).toBe("claimed");
    time.advance(999);
    expect(store.claim("k")).toBe("in-flight");
    time.advance(1);
    expect(store.claim("k")).toBe("claimed");
    expect(store.claim("k")).toBe("in-flight");
  });

  test("a done key expires ttlMs after it was completed", () => {
    const time = clock();
    const store = memoryStore({ ttlMs: 1000, now: time.now });
    store.claim("k");
    time.advance(600);
    store.complete("k"); // the time to live counts from here
    time.advance(999);
    expect(store.claim("k")).toBe("done");
    time.advance(1);
    expect(store.claim("k")).toBe("claimed");
  });

  test("a claim that finds a live key does not extend its life", () => {
    const time = clock();
    const store = memoryStore({ ttlMs: 1000, now: time.now });
    store.claim("k");
    time.advance(800);
    expect(store.claim("k")).toBe("in-flight");
    time.advance(200);
    expect(store.claim("k")).toBe("claimed");
  });

  test("an expired key that is re-claimed is not evicted early by its old slot", () => {
    const time = clock();
    const store = memoryStore({ maxEntries: 2, ttlMs: 1000, now: time.now });
    store.claim("a"); // slot 0
    time.advance(1000);
    expect(store.claim("a")).toBe("claimed"); // expired: a new claim, in slot 1
    expect(store.claim("b")).toBe("claimed"); // slot 0 again: its old "a" must not evict the new one
    expect(store.claim("a")).toBe("in-flight");
    expect(store.size).toBe(2);
  });

  test("through createWebhooks: a duplicate is recognized until the time to live passes", async () => {
    const time = clock();
    const store = memoryStore({ ttlMs: 60_000, now: time.now });
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "t" } }, dedupe: store });
    let handled = 0;
    let duplicates = 0;
    webhooks.on("crazyhorse.waiting", () => void handled++);
    webhooks.on("duplicate", () => void duplicates++);
    const send = () =>
      webhooks.receive({
        provider: "crazyhorse",
        headers: { "content-type": "application/json" },
        rawBody: JSON.stringify({ state: "WAITING", code: "89e78b15d29165008cbfd61ba3bb679f" }),
        query: { token: "t" },
      });
    expect((await send()).status).toBe(200);
    time.advance(59_999);
    expect((await send()).status).toBe(200);
    expect([handled, duplicates]).toEqual([1, 1]);
    time.advance(1);
    expect((await send()).status).toBe(200);
    expect([handled, duplicates]).toEqual([2, 1]);
  });
});

describe("MemoryStore: the maxEntries bound", () => {
  test("never holds more than maxEntries keys", () => {
    const store = memoryStore({ maxEntries: 5 });
    for (let i = 0; i < 50; i++) {
      store.claim(`k${i}`);
      if (i % 3 === 0) store.complete(`k${i}`);
      expect(store.size).toBeLessThanOrEqual(5);
    }
    expect(store.size).toBe(5);
  });

  test("evicts the oldest claim first", () => {
    const store = memoryStore({ maxEntries: 3 });
    store.claim("a");
    store.claim("b");
    store.claim("c");
    store.complete("a"); // completing does not make it younger: eviction follows claim order
    store.claim("d"); // evicts a
    expect(store.size).toBe(3);
    expect(store.claim("b")).toBe("in-flight");
    expect(store.claim("c")).toBe("in-flight");
    expect(store.claim("d")).toBe("in-flight");
    expect(store.claim("a")).toBe("claimed"); // forgotten; this claim evicts b, the oldest now
    expect(store.claim("b")).toBe("claimed");
  });

  test("with maxEntries 1, each new key replaces the last", () => {
    const store = memoryStore({ maxEntries: 1 });
    store.claim("a");
    store.complete("a");
    expect(store.claim("a")).toBe("done");
    store.claim("b");
    expect(store.size).toBe(1);
    expect(store.claim("b")).toBe("in-flight");
    expect(store.claim("a")).toBe("claimed");
  });

  test("a key released and re-claimed into a newer slot is not evicted with its old slot", () => {
    const store = memoryStore({ maxEntries: 3 });
    store.claim("a"); // slot 0
    store.claim("b"); // slot 1
    store.release("a");
    expect(store.claim("a")).toBe("claimed"); // slot 2
    store.complete("a");
    store.claim("c"); // slot 0, which held the old "a": the live "a" stays
    expect(store.claim("a")).toBe("done");
    expect(store.size).toBe(3);
    store.claim("d"); // slot 1: evicts b, the oldest live claim
    expect(store.claim("a")).toBe("done");
    expect(store.claim("c")).toBe("in-flight");
    expect(store.claim("d")).toBe("in-flight");
    expect(store.size).toBe(3);
    store.claim("e"); // slot 2: now "a" is the oldest, and goes
    expect(store.size).toBe(3);
    expect(store.claim("c")).toBe("in-flight");
    expect(store.claim("d")).toBe("in-flight");
    expect(store.claim("e")).toBe("in-flight");
    expect(store.claim("b")).toBe("claimed"); // evicted earlier; this claim evicts c
    expect(store.claim("a")).toBe("claimed");
  });

  test("the bound holds across many releases and re-claims", () => {
    const store = memoryStore({ maxEntries: 4 });
    for (let i = 0; i < 200; i++) {
      const key = `k${i % 7}`;
      if (store.claim(key) === "claimed" && i % 2 === 0) store.release(key);
      else store.complete(key);
      expect(store.size).toBeLessThanOrEqual(4);
    }
  });
});

describe("MemoryStore against a model of what it promises", () => {
  // The promise: a key is remembered from its claim until maxEntries newer claims have been made
  // or its time to live has passed, whichever comes first; released, it is forgotten at once.
  type Op = { kind: "claim" | "complete" | "release"; key: string } | { kind: "wait"; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constantFrom("claim" as const, "complete" as const, "release" as const),
      key: fc.constantFrom("a", "b", "c", "d", "e", "f"),
    }),
    fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 60 }) }),
  );

  test("claim, complete and release answer as the model does, whatever the order (eviction, expiry, re-claims)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(op, { maxLength: 80 }), (maxEntries, ops) => {
        const ttlMs = 50;
        const time = clock();
        const store = memoryStore({ maxEntries, ttlMs, now: time.now });
        const model = new Map<string, { claim: number; state: "in-flight" | "done"; expires: number }>();
        let claims = 0;
        const live = (key: string) => {
          const entry = model.get(key);
          return entry && entry.claim > claims - maxEntries ? entry : undefined;
        };
        for (const step of ops) {
          if (step.kind === "wait") {
            time.advance(step.ms);
            continue;
          }
          const entry = live(step.key);
          if (step.kind === "claim") {
            const expected = entry && entry.expires > time.now() ? entry.state : "claimed";
            expect(store.claim(step.key)).toBe(expected);
            if (expected === "claimed") model.set(step.key, { claim: ++claims, state: "in-flight", expires: time.now() + ttlMs });
          } else if (step.kind === "complete") {
            store.complete(step.key);
            if (entry) Object.assign(entry, { state: "done", expires: time.now() + ttlMs });
          } else {
            store.release(step.key);
            model.delete(step.key);
          }
          expect(store.size).toBe([...model.keys()].filter((key) => live(key)).length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("MemoryStore: bad options are refused at construction", () => {
  test.each<[string, MemoryStoreOptions, RegExp]>([
    ["maxEntries 0", { maxEntries: 0 }, /maxEntries must be a positive integer/],
    ["maxEntries -1", { maxEntries: -1 }, /maxEntries must be a positive integer/],
    ["maxEntries 1.5", { maxEntries: 1.5 }, /maxEntries must be a positive integer/],
    ["maxEntries NaN", { maxEntries: Number.NaN }, /maxEntries must be a positive integer/],
    ["maxEntries Infinity", { maxEntries: Number.POSITIVE_INFINITY }, /maxEntries must be a positive integer/],
    ["maxEntries as a string", { maxEntries: "100" as unknown as number }, /maxEntries must be a positive integer/],
    ["ttlMs 0", { ttlMs: 0 }, /ttlMs must be a positive number/],
    ["ttlMs -5", { ttlMs: -5 }, /ttlMs must be a positive number/],
    ["ttlMs NaN", { ttlMs: Number.NaN }, /ttlMs must be a positive number/],
    ["ttlMs Infinity", { ttlMs: Number.POSITIVE_INFINITY }, /ttlMs must be a positive number/],
    ["ttlMs as a string", { ttlMs: "1h" as unknown as number }, /ttlMs must be a positive number/],
  ])("%s", (_label, options, message) => {
    expect(() => new MemoryStore(options)).toThrow(TypeError);
    expect(() => memoryStore(options)).toThrow(message);
  });
});
