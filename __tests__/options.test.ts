import {
  ConfigError,
  createWebhooks,
  memoryStore,
  type DedupeStore,
  type Logger,
  type Webhooks,
  type WebhooksOptions,
} from "../lib/entries/index";

const VALID_CRAZYHORSE = { state: "WAITING", code: "89e78b15d29165008cbfd61ba3bb679f" };
const VALID_ALL_IMAGES = { id: "evt_options_1", type: "print.created", data: { id: "gen_options_1" } };

/** Options as a JavaScript user, or a loose config file, may pass them: past the types. */
function loose(options: unknown): WebhooksOptions {
  return options as WebhooksOptions;
}

function deliver(webhooks: Webhooks, provider: "crazyhorse" | "all-images", token?: string, rawBody?: string) {
  return webhooks.receive({
    provider,
    headers: { "content-type": "application/json" },
    rawBody: rawBody ?? JSON.stringify(provider === "crazyhorse" ? VALID_CRAZYHORSE : VALID_ALL_IMAGES),
    ...(token !== undefined && { query: { token } }),
  });
}

/** createWebhooks throws the exported ConfigError (a TypeError) naming the package, whose message matches every pattern given. */
function expectConfigError(options: unknown, ...patterns: RegExp[]): void {
  expect(() => createWebhooks(loose(options))).toThrow(TypeError);
  let thrown: unknown;
  try {
    createWebhooks(loose(options));
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TypeError);
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as Error).name).toBe("ConfigError");
  const message = (thrown as Error).message;
  expect(message).toMatch(/^imagegen-webhooks: /);
  for (const pattern of patterns) expect(message).toMatch(pattern);
}

const PROVIDER_LIST = /crazyhorse, all-images/;

describe("createWebhooks: no providers", () => {
  test.each<[string, unknown]>([
    ["no options at all", undefined],
    ["options that are not an object", "crazyhorse"],
  ])("%s", (_label, options) => {
    expectConfigError(options, /options object/, /providers: \{ crazyhorse: \{ secret/);
  });

  test.each<[string, unknown]>([
    ["no providers key", {}],
    ["an empty providers object", { providers: {} }],
    ["providers as an array", { providers: [{ crazyhorse: { secret: "s" } }] }],
    ["providers as a string", { providers: "crazyhorse" }],
  ])("%s: says to name at least one, and which exist", (_label, options) => {
    expectConfigError(options, /at least one provider/, PROVIDER_LIST);
  });

  test("every provider left undefined (each read from an unset setting) is no provider either", () => {
    expectConfigError({ providers: { crazyhorse: undefined, "all-images": undefined } }, /at least one provider/, PROVIDER_LIST);
  });

  test("one provider left undefined beside a configured one is fine", () => {
    expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" }, "all-images": undefined } })).not.toThrow();
  });
});

describe("createWebhooks: unknown provider names", () => {
  test.each(["crazyhorse.ai", "allimages", "All-Images", "midjourney", "__proto__", "toString"])("%j names the known ones", (name) => {
    const providers = JSON.parse(`{ ${JSON.stringify(name)}: { "secret": "s" } }`) as unknown;
    expectConfigError({ providers }, new RegExp(`unknown provider "${name.replace(/[.]/g, "\\.")}"`), PROVIDER_LIST);
  });

  test("an unknown name beside a valid one still throws", () => {
    expectConfigError({ providers: { crazyhorse: { secret: "s" }, crazyhors: { secret: "s" } } }, /unknown provider "crazyhors"/);
  });
});

describe("createWebhooks: a provider must have a secret or the explicit opt-out", () => {
  test("neither secret nor allowUnauthenticated", () => {
    expectConfigError(
      { providers: { crazyhorse: {} } },
      /provider crazyhorse has no secret/,
      /set providers\.crazyhorse\.secret/,
      /allowUnauthenticated: true/,
    );
  });

  test("a provider that gives no signing secret (crazyhorse) is not said to give one; one that signs (Replicate) is", () => {
    expect(() => createWebhooks({ providers: { crazyhorse: {} } })).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(/gives you/) }),
    );
    expect(() => createWebhooks({ providers: { crazyhorse: {} } })).toThrow(/where a relay signs crazyhorse's deliveries/);
    expect(() => createWebhooks({ providers: { replicate: {} } })).toThrow(/the signing secret replicate gives you/);
  });

  test("secret: undefined, as from an unset environment variable: says to check the variable", () => {
    const name = "IMAGEGEN_WEBHOOKS_OPTIONS_TEST_UNSET";
    delete process.env[name];
    expectConfigError(
      { providers: { "all-images": { secret: process.env[name] } } },
      /provider all-images has no secret/,
      /providers\.all-images\.secret/,
      /environment variable/,
    );
  });

  test("signature.secret: undefined compiles (as the token's does) and is refused at start-up, saying to check the variable", () => {
    const name = "IMAGEGEN_WEBHOOKS_OPTIONS_TEST_UNSET_SIGNING";
    delete process.env[name];
    expectConfigError(
      { providers: { replicate: { signature: { secret: process.env[name] } } } },
      /providers\.replicate\.signature\.secret/,
      /whsec_/,
      /environment variable/,
    );
  });

  test("allowUnauthenticated: false is not the opt-out", () => {
    expectConfigError({ providers: { crazyhorse: { allowUnauthenticated: false } } }, /has no secret/);
    expectConfigError({ allowUnauthenticated: false, providers: { crazyhorse: {} } }, /has no secret/);
  });

  test("a provider without a secret is refused even when the other one has one", () => {
    expectConfigError({ providers: { crazyhorse: { secret: "s" }, "all-images": {} } }, /provider all-images has no secret/);
  });

  test("an empty array of secrets is no secret", () => {
    expectConfigError({ providers: { crazyhorse: { secret: [] } } }, /crazyhorse/, /secret/);
  });

  test.each<[string, unknown]>([
    ["an empty string", ""],
    ["a number", 12345],
    ["null", null],
    ["an object", { value: "s" }],
    ["an array with an empty string", ["current", ""]],
    ["an array with a number", ["current", 42]],
    ["an array with null", [null]],
  ])("secret as %s: says it must be a non-empty string or an array of them", (_label, secret) => {
    expectConfigError({ providers: { crazyhorse: { secret } } }, /providers\.crazyhorse\.secret must be a non-empty string/, /array/);
  });

  test("a non-boolean global allowUnauthenticated", () => {
    expectConfigError({ allowUnauthenticated: "yes", providers: { crazyhorse: {} } }, /allowUnauthenticated must be true or false/);
  });

  test.each<[string, unknown]>([
    ["a string", "s3cret"],
    ["true", true],
    ["null", null],
    ["an array", [{ secret: "s" }]],
  ])("provider options as %s: says they must be an object", (_label, value) => {
    expectConfigError({ providers: { crazyhorse: value } }, /providers\.crazyhorse must be an object/, /secret/);
  });
});

describe("createWebhooks: paths", () => {
  test.each<[string, unknown]>([
    ["without a leading slash", "crazyhorse"],
    ["empty", ""],
    ["with a query", "/crazyhorse?token=x"],
    ["not a string", 42],
  ])("a path %s: says it must start with / and hold no query", (_label, path) => {
    expectConfigError({ providers: { crazyhorse: { secret: "s", path } } }, /providers\.crazyhorse\.path must start with "\/"/, /no query/);
  });

  test.each<[string, string | undefined, string | undefined]>([
    ["the same path", "/hooks", "/hooks"],
    ["the same path, one with a trailing slash", "/hooks", "/hooks/"],
    ["one's path is the other's default", "/all-images", undefined],
    ["the other's path is the first one's default", undefined, "/crazyhorse"],
  ])("two providers at %s: says to give one its own path", (_label, crazyhorsePath, allImagesPath) => {
    expectConfigError(
      {
        providers: {
          crazyhorse: { secret: "a", ...(crazyhorsePath !== undefined && { path: crazyhorsePath }) },
          "all-images": { secret: "b", ...(allImagesPath !== undefined && { path: allImagesPath }) },
        },
      },
      /providers crazyhorse and all-images both use the path \//,
      /give one a "path" of its own/,
    );
  });

  test("distinct paths are fine", () => {
    expect(() =>
      createWebhooks({ providers: { crazyhorse: { secret: "a", path: "/ch" }, "all-images": { secret: "b", path: "/ai/hooks" } } }),
    ).not.toThrow();
  });
});

describe("createWebhooks: imageBaseUrl", () => {
  test.each<[string, unknown]>([
    ["a host without a scheme", "storage.example.com"],
    ["a relative path", "/images/"],
    ["an ftp URL", "ftp://storage.example.com/"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a file: URL", "file:///var/images/"],
    ["an empty string", ""],
    ["a number", 42],
    ["a URL object", new URL("https://storage.example.com/")],
  ])("%s: says it must be an absolute http(s) URL", (_label, imageBaseUrl) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s", imageBaseUrl } } },
      /providers\.crazyhorse\.imageBaseUrl must be an absolute http\(s\) URL/,
      /https:\/\/storage\.example\.com\//,
    );
  });

  test.each(["https://storage.example.com/", "https://storage.example.com", "http://localhost:9000/bucket"])(
    "%s is fine",
    (imageBaseUrl) => {
      expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s", imageBaseUrl } } })).not.toThrow();
    },
  );
});

describe("createWebhooks: limit", () => {
  test.each<[string, unknown]>([
    ["zero", 0],
    ["negative", -1],
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["a word", "large"],
    ["an empty string", ""],
    ["zero kilobytes", "0kb"],
    ["negative kilobytes", "-1kb"],
    ["an object", { max: 100 }],
  ])("%s: says to give a positive number of bytes or a size", (_label, limit) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s" } }, limit },
      /limit must be a positive number of bytes or a size such as "100kb"/,
    );
  });

  // bytes.parse() reads the leading digits of what it does not understand: "2MiB" would be a 2-byte limit,
  // and every delivery a 413. A size the parser does not know is a mistake to report, not a number to guess.
  test.each(["2MiB", "512 KiB", "1e6"])("an unknown unit, %j, is a mistake too", (limit) => {
    expectConfigError({ providers: { crazyhorse: { secret: "s" } }, limit }, /limit must be/);
  });

  test.each<[string, number | string]>([
    ["a number", 1024],
    ["a size in kb", "100kb"],
    ["a size in mb", "1mb"],
    ["a size with a space and capitals", "2 MB"],
  ])("%s is fine", (_label, limit) => {
    expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" } }, limit })).not.toThrow();
  });

  test('"1mb" accepts a 200 kB delivery, which the default 100kb refuses with 413', async () => {
    const body = JSON.stringify({ ...VALID_CRAZYHORSE, padding: "x".repeat(200 * 1024) });
    const big = createWebhooks({ providers: { crazyhorse: { secret: "s" } }, limit: "1mb" });
    const byDefault = createWebhooks({ providers: { crazyhorse: { secret: "s" } } });
    expect((await deliver(big, "crazyhorse", "s", body)).status).toBe(200);
    expect((await deliver(byDefault, "crazyhorse", "s", body)).status).toBe(413);
  });

  test("a number is a count of bytes", async () => {
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "s" } }, limit: 100 });
    const small = JSON.stringify(VALID_CRAZYHORSE);
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(100);
    expect((await deliver(webhooks, "crazyhorse", "s", small)).status).toBe(200);
    const large = JSON.stringify({ ...VALID_CRAZYHORSE, code: "c".repeat(101) });
    expect((await deliver(webhooks, "crazyhorse", "s", large)).status).toBe(413);
  });
});

describe("createWebhooks: handlerTimeoutMs", () => {
  test.each<[string, unknown]>([
    ["zero", 0],
    ["negative", -100],
    ["NaN", Number.NaN],
    ["a string", "9000"],
  ])("%s: says it must be a positive number of milliseconds", (_label, handlerTimeoutMs) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s" } }, handlerTimeoutMs },
      /handlerTimeoutMs must be a positive number of milliseconds/,
    );
  });

  test("a positive number is fine", () => {
    expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" } }, handlerTimeoutMs: 1500 })).not.toThrow();
  });
});

describe("createWebhooks: dedupe", () => {
  test.each<[string, unknown]>([
    ["true", true],
    ["a string", "memory"],
    ["an empty object", {}],
    ["a store without release()", { claim: () => "claimed", complete: () => undefined }],
    ["a store whose claim is not a function", { claim: "yes", complete: () => undefined, release: () => undefined }],
    ["a Map", new Map()],
    ["null", null],
  ])("%s: says what a store must have, and that false turns it off", (_label, dedupe) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s" } }, dedupe },
      /dedupe must be a store with claim\(\), complete\(\) and release\(\)/,
      /or false/,
    );
  });

  test("false, memoryStore() and a custom store are fine", () => {
    const custom: DedupeStore = { claim: () => "claimed", complete: () => undefined, release: () => undefined };
    for (const dedupe of [false, memoryStore(), custom] as const) {
      expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" } }, dedupe })).not.toThrow();
    }
  });

  test("the store given is the one used", async () => {
    const keys: string[] = [];
    const custom: DedupeStore = {
      claim: (key) => (keys.push(key), "claimed"),
      complete: () => undefined,
      release: () => undefined,
    };
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "s" } }, dedupe: custom });
    expect((await deliver(webhooks, "crazyhorse", "s")).status).toBe(200);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toContain("89e78b15d29165008cbfd61ba3bb679f");
  });
});

describe("createWebhooks: logger", () => {
  const noop = () => undefined;
  test.each<[string, unknown, RegExp]>([
    ["a string", "pino", /logger must be a pino-compatible object/],
    ["a number", 1, /logger must be a pino-compatible object/],
    ["an empty object", {}, /logger must be a pino-compatible object: it has no debug\(\) method/],
    ["an object without warn()", { debug: noop, info: noop, error: noop }, /it has no warn\(\) method/],
    ["an object whose error is not a function", { debug: noop, info: noop, warn: noop, error: "stderr" }, /it has no error\(\) method/],
  ])("%s", (_label, logger, message) => {
    expectConfigError({ providers: { crazyhorse: { secret: "s" } }, logger }, message);
  });

  test("a pino-like object, and console, are fine", () => {
    const logger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
    expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" } }, logger })).not.toThrow();
    expect(() => createWebhooks({ providers: { crazyhorse: { secret: "s" } }, logger: console })).not.toThrow();
  });
});

describe("createWebhooks: unknown option keys", () => {
  test.each([
    ["secret", { secret: "s" }],
    ["imageBaseUrl", { imageBaseUrl: "https://storage.example.com/" }],
    ["handlerTimeout", { handlerTimeout: 1000 }],
    ["store", { store: memoryStore() }],
  ])("%j at the top level: names it and lists the options", (key, extra) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s" } }, ...extra },
      new RegExp(`unknown option "${key}" in createWebhooks\\(\\)`),
      /the options are providers, customProviders, limit, dedupe, dedupeFailOpen, handlerTimeoutMs, logger, allowUnauthenticated/,
    );
  });

  test.each([
    ["secrets", { secrets: ["a", "b"] }],
    ["imageBaseURL", { imageBaseURL: "https://storage.example.com/" }],
    ["token", { token: "t" }],
    ["limit", { limit: "1mb" }],
  ])("%j in a provider's options: names it, the provider and its options", (key, extra) => {
    expectConfigError(
      { providers: { crazyhorse: { secret: "s", ...extra } } },
      new RegExp(`unknown option "${key}" for provider crazyhorse`),
      /secret, signature, allowedIps, path, imageBaseUrl, allowUnauthenticated/,
    );
  });
});

describe("createWebhooks: allowUnauthenticated", () => {
  test("globally: a provider without a secret accepts a delivery with no token; one with a secret still refuses it", async () => {
    const webhooks = createWebhooks({
      allowUnauthenticated: true,
      providers: { crazyhorse: {}, "all-images": { secret: "all-images-token" } },
    });
    const open = await deliver(webhooks, "crazyhorse");
    expect(open.status).toBe(200);
    expect(open.body).toBe("success");

    const refused = await deliver(webhooks, "all-images");
    expect(refused.status).toBe(401);
    expect(refused.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect((await deliver(webhooks, "all-images", "wrong-token")).status).toBe(401);
    expect((await deliver(webhooks, "all-images", "all-images-token")).status).toBe(200);
  });

  test("per provider: only that provider is open", async () => {
    const webhooks = createWebhooks({
      providers: { "all-images": { allowUnauthenticated: true }, crazyhorse: { secret: "crazyhorse-token" } },
    });
    expect((await deliver(webhooks, "all-images")).status).toBe(200);
    expect((await deliver(webhooks, "crazyhorse")).status).toBe(401);
    expect((await deliver(webhooks, "crazyhorse", "crazyhorse-token")).status).toBe(200);
  });

  test("the opt-out beside a secret does not switch the secret off", async () => {
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "t", allowUnauthenticated: true } } });
    expect((await deliver(webhooks, "crazyhorse")).status).toBe(401);
    expect((await deliver(webhooks, "crazyhorse", "t")).status).toBe(200);
  });
});

describe("createWebhooks: secret arrays (rotation)", () => {
  test("every secret of the array is accepted, any other token refused", async () => {
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: ["old-token", "new-token"] } }, dedupe: false });
    expect((await deliver(webhooks, "crazyhorse", "old-token")).status).toBe(200);
    expect((await deliver(webhooks, "crazyhorse", "new-token")).status).toBe(200);
    expect((await deliver(webhooks, "crazyhorse", "older-token")).status).toBe(401);
    expect((await deliver(webhooks, "crazyhorse")).status).toBe(401);
  });

  test("a readonly array, as `as const` gives, type-checks and works", async () => {
    const secrets = ["a-token", "b-token"] as const;
    const webhooks = createWebhooks({ providers: { "all-images": { secret: secrets } } });
    expect((await deliver(webhooks, "all-images", "b-token")).status).toBe(200);
  });
});

describe("createWebhooks: a full valid configuration", () => {
  test("every option at once does not throw", () => {
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    expect(() =>
      createWebhooks({
        providers: {
          crazyhorse: { secret: ["a", "b"], path: "/crazyhorse/", imageBaseUrl: "https://storage.example.com" },
          "all-images": { allowUnauthenticated: true, path: "/all-images" },
        },
        limit: "1mb",
        dedupe: memoryStore({ maxEntries: 100, ttlMs: 60_000 }),
        handlerTimeoutMs: 5000,
        logger,
        allowUnauthenticated: false,
      }),
    ).not.toThrow();
  });
});
