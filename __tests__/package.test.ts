/**
 * The published package, as a user's project gets it: `npm pack`'s tarball of a fresh clone (no
 * dist/ there: `prepack` must build it, or the package ships no code), unpacked into a scratch
 * project in the system's temporary directory, loaded with require() and import, and type-checked
 * in every Node module mode; and the tarball's shape checked by @arethetypeswrong/cli.
 *
 * The clone is of the tracked files as they are now in the working tree (`git ls-files`, copied:
 * helpers/tracked-files.ts), so a change not yet committed is packed too; a file git does not track
 * is not.
 * The clone and the scratch project get their dependencies as symlinks to this repository's
 * node_modules rather than from `npm ci`/`npm install`: the suite stays offline and fast, and Node
 * and TypeScript follow a symlink to its real path, so the dependencies' own dependencies resolve
 * there too.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { providers } from "../lib/providers/index";
import { copyTrackedFiles } from "./helpers/tracked-files";

const root = join(__dirname, "..");
const pkg = require("../package.json") as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
};

let work: string;
let tarball: string;
let packedFiles: string[];
/** The user's project: node_modules/imagegen-webhooks is the unpacked tarball. */
let project: string;
let installed: string;

function run(command: string, args: string[], cwd = project): string {
  return execFileSync(command, args, { cwd, encoding: "utf8" });
}

/** A fresh clone of the repository's tracked files, with no dist/ and no node_modules of its own. */
function freshClone(): string {
  const clone = join(work, "clone");
  copyTrackedFiles(root, clone);
  if (existsSync(join(clone, "dist"))) throw new Error("the fresh clone holds a dist/: is it tracked?");
  symlinkSync(join(root, "node_modules"), join(clone, "node_modules"), "dir");
  return clone;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "imagegen-webhooks-package-"));
  // npm prints the lifecycle scripts' output (prepack's build) before its JSON.
  const output = run("npm", ["pack", "--json", "--pack-destination", work], freshClone());
  const [pack] = JSON.parse(output.slice(output.search(/^\[/m))) as [{ filename: string; files: { path: string }[] }];
  tarball = join(work, pack.filename);
  packedFiles = pack.files.map((file) => file.path);

  project = join(work, "project");
  installed = join(project, "node_modules", "imagegen-webhooks");
  mkdirSync(installed, { recursive: true });
  run("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  // npm installs a peer that is not optional (`@opentelemetry/api`) with the package, as a dependency.
  const requiredPeers = Object.keys(pkg.peerDependencies).filter((dep) => !pkg.peerDependenciesMeta[dep]?.optional);
  // The optional peers too: a user who imports /bullmq, /s3 or /fastify has installed them, and the type checks import all seven entries.
  const optionalPeers = Object.keys(pkg.peerDependencies).filter((dep) => !requiredPeers.includes(dep));
  for (const dep of [...Object.keys(pkg.dependencies), ...requiredPeers, ...optionalPeers, "@types/node"]) {
    mkdirSync(dirname(join(project, "node_modules", dep)), { recursive: true });
    symlinkSync(join(root, "node_modules", dep), join(project, "node_modules", dep), "dir");
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true }));
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("a fresh clone's npm pack builds dist (prepack; prepare for a git install) and ships it with its type declarations for both module systems, the schemas, the OpenAPI document and the bin; no sources or tests", () => {
  for (const file of [
    "dist/index.js",
    "dist/index.mjs",
    "dist/index.d.ts",
    "dist/index.d.mts",
    "dist/testing/index.js",
    "dist/testing/index.mjs",
    "dist/testing/index.d.ts",
    "dist/testing/index.d.mts",
    "dist/redis/index.js",
    "dist/redis/index.mjs",
    "dist/redis/index.d.ts",
    "dist/redis/index.d.mts",
    "dist/bullmq/index.js",
    "dist/bullmq/index.mjs",
    "dist/bullmq/index.d.ts",
    "dist/bullmq/index.d.mts",
    "dist/s3/index.js",
    "dist/s3/index.mjs",
    "dist/s3/index.d.ts",
    "dist/s3/index.d.mts",
    "dist/web/index.js",
    "dist/web/index.mjs",
    "dist/web/index.d.ts",
    "dist/web/index.d.mts",
    "dist/fastify/index.js",
    "dist/fastify/index.mjs",
    "dist/fastify/index.d.ts",
    "dist/fastify/index.d.mts",
    ...Object.keys(providers).map((name) => `dist/schemas/${name}.json`),
    "dist/openapi.json",
    ...Object.values(pkg.bin).map((bin) => bin.replace(/^\.\//, "")),
    "package.json",
    "README.md",
  ]) {
    expect(packedFiles).toContain(file);
  }
  expect(packedFiles.filter((file) => /^(lib|__tests__|scripts|example-app|bench|docs)\//.test(file))).toEqual([]);
  // A git dependency is built by `prepare` (npm runs it in the clone it installs from), which pack skips: prepack built.
  expect(pkg.scripts.prepack).toMatch(/^node scripts\/build\.mjs && /);
  expect(pkg.scripts.prepare).toBe("node scripts/prepare.mjs");
});

test("nothing in the tarball names a file it does not hold: the manifest's entries, its scripts (none), source maps", () => {
  const packed = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as Record<string, unknown>;
  const named = new Set<string>();
  const collect = (target: unknown): void => {
    if (typeof target === "string") named.add(target.replace(/^\.\//, ""));
    else if (Array.isArray(target)) target.forEach(collect);
    else if (target && typeof target === "object") Object.values(target).forEach(collect);
  };
  for (const field of ["main", "types", "bin", "exports", "typesVersions"]) collect(packed[field]);
  // A wildcard names as many files as it matches; at least one must be there.
  const held = (file: string) =>
    file.includes("*")
      ? packedFiles.some((path) =>
          new RegExp(
            `^${file
              .split("*")
              .map((part) => part.replace(/[.]/g, "\\."))
              .join(".+")}$`,
          ).test(path),
        )
      : packedFiles.includes(file);
  expect([...named].filter((file) => !held(file))).toEqual([]);
  // npm runs a dependency's scripts from its own folder: every one here would name scripts/, which is not shipped.
  expect(packed.scripts).toBeUndefined();
  const maps = packedFiles
    .filter((file) => /\.(m?js|d\.m?ts)$/.test(file))
    .flatMap((file) => {
      const url = /\/\/# sourceMappingURL=(\S+)/.exec(readFileSync(join(installed, file), "utf8"))?.[1];
      return url ? [join(dirname(file), url)] : [];
    });
  expect(maps.filter((map) => !packedFiles.includes(map))).toEqual([]);
});

const delivery = `
  const body = JSON.stringify(testing.crazyhorseExample);
  const webhooks = pkg.createWebhooks({ providers: { crazyhorse: { secret: "s" } } });
  webhooks.on("crazyhorse.done", (event) => console.log("event", event.generation.status));
  webhooks.receive({ provider: "crazyhorse", headers: { "content-type": "application/json" }, rawBody: body, query: "token=s" })
    .then((answer) => console.log("answer", answer.status, answer.body));
`;

test("require() loads the package and its subpaths from the installed tarball", () => {
  const script = `
    const pkg = require("imagegen-webhooks");
    const testing = require("imagegen-webhooks/testing");
    console.log(require.resolve("imagegen-webhooks"));
    console.log(typeof require("imagegen-webhooks/redis").redisStore);
    console.log(require("imagegen-webhooks/schemas/crazyhorse.json").required.join(), require("imagegen-webhooks/schemas/all-images.json").required.join());
    console.log(require("imagegen-webhooks/openapi.json").openapi);
    ${delivery}`;
  expect(run(process.execPath, ["-e", script])).toBe(
    `${join(installed, "dist", "index.js")}\nfunction\nstate,code id,type,data\n3.1.0\nevent completed\nanswer 200 success\n`,
  );
});

test("import loads the package and its subpaths from the installed tarball, as the same instance as require()", () => {
  const script = `
    import * as pkg from "imagegen-webhooks";
    import * as testing from "imagegen-webhooks/testing";
    import whole from "imagegen-webhooks";
    import { redisStore } from "imagegen-webhooks/redis";
    import schema from "imagegen-webhooks/schemas/crazyhorse.json" with { type: "json" };
    import openapi from "imagegen-webhooks/openapi.json" with { type: "json" };
    import { createRequire } from "node:module";
    const required = createRequire(import.meta.url)("imagegen-webhooks");
    if (pkg.createWebhooks !== required.createWebhooks || whole.createWebhooks !== required.createWebhooks) throw new Error("two instances");
    console.log(import.meta.resolve("imagegen-webhooks") === ${JSON.stringify(`file://${join(installed, "dist", "index.mjs")}`)});
    console.log(typeof redisStore, schema.required.join(), openapi.openapi);
    ${delivery}`;
  expect(run(process.execPath, ["--input-type=module", "-e", script])).toBe(
    "true\nfunction state,code 3.1.0\nevent completed\nanswer 200 success\n",
  );
});

// The same user code, once as CommonJS (.cts: `require` conditions, `import … = require()` as
// verbatimModuleSyntax asks there) and once as ESM (.mts: `import` conditions), importing all seven
// entries. Each `@ts-expect-error` fails the check if a type resolved to `any`.
const CJS_IMPORTS = `
import type { WebhookEvent } from "imagegen-webhooks";
import type { ImagegenWebhooksOptions } from "imagegen-webhooks/fastify";
import main = require("imagegen-webhooks");
import testing = require("imagegen-webhooks/testing");
import redis = require("imagegen-webhooks/redis");
import bullmq = require("imagegen-webhooks/bullmq");
import s3 = require("imagegen-webhooks/s3");
import web = require("imagegen-webhooks/web");
import imagegenWebhooks = require("imagegen-webhooks/fastify");
const { createWebhooks } = main;
const { crazyhorseDelivery } = testing;
const { redisStore } = redis;
const { bullmqInbox } = bullmq;
const { s3ImageStore } = s3;
const createWebWebhooks = web.createWebhooks;
`;
const ESM_IMPORTS = `
import { createWebhooks, type WebhookEvent } from "imagegen-webhooks";
import whole from "imagegen-webhooks";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { redisStore } from "imagegen-webhooks/redis";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { s3ImageStore } from "imagegen-webhooks/s3";
import { createWebhooks as createWebWebhooks } from "imagegen-webhooks/web";
import imagegenWebhooks, { imagegenWebhooks as named, type ImagegenWebhooksOptions } from "imagegen-webhooks/fastify";
whole.createWebhooks satisfies typeof createWebhooks;
named satisfies typeof imagegenWebhooks.imagegenWebhooks;
`;
const consumer = `
// The quickstart's secret from the environment: undefined is a start-up error, not a type error.
const webhooks = createWebhooks({ providers: { crazyhorse: { secret: process.env.CRAZYHORSE_WEBHOOK_SECRET } } });
webhooks.on("crazyhorse.done", (event) => {
  const urls: string[] = event.payload.generateImageUrls;
  const same: WebhookEvent<"crazyhorse"> = event;
  void urls, same;
});
webhooks.on("error", (err) => {
  const id: string = err.event.id;
  void id;
});
// @ts-expect-error a misspelled event name does not compile
webhooks.on("crazyhorse.dnoe", () => {});
const body: { state: string; code: string } = crazyhorseDelivery({ state: "DONE" });
const onTheWeb = createWebWebhooks({ providers: { replicate: { signature: { secret: process.env.REPLICATE_WEBHOOK_SECRET } } } });
const pluginOptions: ImagegenWebhooksOptions = { webhooks, prefix: "/webhooks" };
// @ts-expect-error typed, not any
const notAny: number = crazyhorseDelivery;
// @ts-expect-error typed, not any
const notAnyEither: number = redisStore;
// @ts-expect-error typed, not any
const notAnyInbox: number = bullmqInbox;
// @ts-expect-error typed, not any
const notAnyStore: number = s3ImageStore;
// @ts-expect-error typed, not any
const notAnyPlugin: number = imagegenWebhooks;
void body, onTheWeb, pluginOptions, notAny, notAnyEither, notAnyInbox, notAnyStore, notAnyPlugin;
`;

/** The strictest options a user's tsconfig may hold; the package's own .d.ts files are checked too. */
const STRICTEST = {
  target: "ES2022",
  lib: ["ES2022", "DOM"],
  types: ["node"],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  skipLibCheck: false,
  noEmit: true,
};

test.each([
  ["node16", { module: "node16", moduleResolution: "node16" }],
  ["nodenext", { module: "nodenext", moduleResolution: "nodenext" }],
  // `preserve`: a bundler's module mode, where a .cts may `import … = require()`.
  ["bundler", { module: "preserve", moduleResolution: "bundler" }],
])(
  "its types resolve and type-check with module resolution %s, from CommonJS and from ESM",
  (name, options) => {
    const dir = join(project, `types-${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "consumer.cts"), CJS_IMPORTS + consumer);
    writeFileSync(join(dir, "consumer.mts"), ESM_IMPORTS + consumer);
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { ...STRICTEST, ...options }, files: ["consumer.cts", "consumer.mts"] }),
    );
    const tsc = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", dir, "--traceResolution"], {
      cwd: dir,
      encoding: "utf8",
      // The trace of every resolution, @opentelemetry/api's types among them, outgrows the 1 MB default.
      maxBuffer: 64 * 1024 * 1024,
    });
    const errors = tsc.stdout.split("\n").filter((line) => /error TS\d+/.test(line));
    expect(errors).toEqual([]);
    expect(tsc.status).toBe(0);
    // Resolved from the installed tarball, through `require` for the .cts and `import` for the .mts, for every entry.
    const resolved = (entry: string, from: string) =>
      new RegExp(`Resolving module '${entry}' from '[^']*${from}'[\\s\\S]*?successfully resolved to '([^']+)'`).exec(tsc.stdout)?.[1];
    for (const subpath of Object.keys(pkg.exports).filter((subpath) => (pkg.exports[subpath] as { import?: unknown }).import)) {
      const entry = subpath.replace(/^\./, "imagegen-webhooks");
      const types = (condition: "import" | "require") =>
        join(installed, (pkg.exports[subpath] as Record<typeof condition, { types: string }>)[condition].types);
      expect([entry, resolved(entry, "consumer.cts")]).toEqual([entry, types("require")]);
      expect([entry, resolved(entry, "consumer.mts")]).toEqual([entry, types("import")]);
    }
    // TypeScript 7 (the `typescript7` dev dependency), as a user on today's `tsc --init` compiles it.
    const tsc7 = spawnSync(process.execPath, [join(root, "node_modules", "typescript7", "bin", "tsc"), "-p", dir, "--pretty", "false"], {
      cwd: dir,
      encoding: "utf8",
    });
    expect(`${tsc7.stdout}${tsc7.stderr}`.split("\n").filter((line) => /error TS\d+/.test(line))).toEqual([]);
    expect(tsc7.status).toBe(0);
  },
  300_000,
);

test("@arethetypeswrong/cli finds no problem in any entry point, under every resolution it knows (node10 included)", () => {
  const attw = spawnSync(
    process.execPath,
    [join(root, "node_modules", "@arethetypeswrong", "cli", "dist", "index.js"), tarball, "--format", "json"],
    {
      cwd: work,
      encoding: "utf8",
    },
  );
  const report = JSON.parse(attw.stdout) as {
    problems?: Record<string, unknown[]>;
    analysis: {
      entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string; isTypeScript: boolean } }> }>;
    };
  };
  expect(report.problems ?? {}).toEqual({});
  expect(attw.status).toBe(0);
  const entrypoints = report.analysis.entrypoints;
  for (const entry of [".", "./testing", "./redis", "./bullmq", "./s3", "./web", "./fastify"]) {
    expect(Object.keys(entrypoints[entry]!.resolutions).sort()).toEqual(["bundler", "node10", "node16-cjs", "node16-esm"]);
    for (const { resolution } of Object.values(entrypoints[entry]!.resolutions)) {
      expect(resolution).toMatchObject({ isTypeScript: true, fileName: expect.stringMatching(/\/dist\/.*\.d\.m?ts$/) });
    }
  }
  // Every subpath export is one that attw checked: a new entry point cannot slip past it.
  expect(Object.keys(pkg.exports).filter((subpath) => !(subpath in entrypoints))).toEqual([]);
  expect(entrypoints["./openapi.json"]!.resolutions.node10!.resolution).toMatchObject({
    fileName: expect.stringMatching(/\/dist\/openapi\.json$/),
  });
}, 60_000);
