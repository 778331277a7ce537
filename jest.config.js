const express4 = process.env.EXPRESS_MAJOR === "4";

// The test files that need more than the source and this process: the suite's Redis (or one of their
// own), a browser, another runtime (Bun, Deno, workerd), the built dist/ or `npm pack`, or the CLI and
// the example app as processes of their own. `npm run test:unit` leaves them out (the "integration"
// project); __tests__/test-projects.test.ts fails when a unit file reaches for one of those.
const INTEGRATION = [
  "cli.test.ts",
  "docs.test.ts",
  "openapi.test.ts",
  "package.test.ts",
  "redis-instances.test.ts",
  "example-app/app.test.ts",
  "example-app/browser.test.ts",
  "example-app/two-processes.test.ts",
  "images/pipeline.test.ts",
  "inbox/bullmq-inbox.test.ts",
  "inbox/durability.test.ts",
  "inbox/worker.test.ts",
  "pipeline/generations.test.ts",
  "reconcile/reconcile.test.ts",
  "runtimes/bun-deno.test.ts",
  "runtimes/workers.test.ts",
  "stores/redis-store.test.ts",
  "telemetry/inbox-spans.test.ts",
  "inbox/hanging-listener.test.ts",
  "layers.test.ts",
  "pipeline/nesting.test.ts",
  "tracked-files.test.ts",
  "generations/track.test.ts",
  "generations/wait-across-processes.test.ts",
  "inbox/cluster.test.ts",
  "inbox/partitions.test.ts",
  "inbox/sentinel.test.ts",
  "readme.test.ts",
  "stores/redis-cluster.test.ts",
  "inbox/openai-read-back.test.ts",
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const integrationPaths = INTEGRATION.map((file) => `<rootDir>/__tests__/${escape(file)}$`);

/** What both projects share. */
const shared = {
  rootDir: __dirname,
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  // The demo imports the package by its name, as a user would; the tests run it against the source.
  moduleNameMapper: {
    "^imagegen-webhooks$": "<rootDir>/lib/entries/index.ts",
    "^imagegen-webhooks/testing$": "<rootDir>/lib/entries/testing/index.ts",
    "^imagegen-webhooks/redis$": "<rootDir>/lib/entries/redis/index.ts",
    "^imagegen-webhooks/bullmq$": "<rootDir>/lib/entries/bullmq/index.ts",
    "^imagegen-webhooks/s3$": "<rootDir>/lib/entries/s3/index.ts",
    "^imagegen-webhooks/web$": "<rootDir>/lib/entries/web/index.ts",
    "^imagegen-webhooks/fastify$": "<rootDir>/lib/entries/fastify/index.ts",
    // EXPRESS_MAJOR=4 runs the whole suite against Express 4 (the dev dependency aliased express4),
    // since the peer range takes both majors; .ci/run runs it once with each.
    ...(express4 ? { "^express$": "express4", "^express/(.*)$": "express4/$1" } : {}),
  },
  collectCoverageFrom: ["lib/**/*.ts"],
};

// What the Express 4 run leaves out: the runtime tests (Bun, Deno, Workers, Hono, Fastify) involve no
// Express, and the demo's browser tests drive a page whose server app.test.ts already runs on Express 4.
const NOT_WITH_EXPRESS_4 = ["runtimes/", "example-app/browser.test.ts", "example-app/two-processes.test.ts"];
const ignored = ["/node_modules/", ...(express4 ? NOT_WITH_EXPRESS_4.map((path) => `<rootDir>/__tests__/${escape(path)}`) : [])];

/** @type {import("jest").Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: "unit",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: [...ignored, ...integrationPaths],
    },
    {
      ...shared,
      displayName: "integration",
      testMatch: INTEGRATION.map((file) => `<rootDir>/__tests__/${file}`),
      testPathIgnorePatterns: ignored,
      // A throwaway redis-server when REDIS_URL is unset: __tests__/helpers/redis-global-setup.ts.
      // The Redis tests share it: each names its keys and queues with a random id of its own.
      globalSetup: "<rootDir>/__tests__/helpers/redis-global-setup.ts",
      globalTeardown: "<rootDir>/__tests__/helpers/redis-global-teardown.ts",
    },
  ],
  // Jest's default is one worker fewer than the cores, a single one on two: the files then run one
  // after the other. Most of the slow ones wait on processes of their own (Redis, a browser, Bun,
  // Deno, the CLI) rather than on this CPU, so one worker per core.
  maxWorkers: "100%",
  // Many tests wait on processes that start under the other worker's load (tsx, Redis, a browser):
  // a test that names no timeout of its own gets more than jest's 5 s, so that a slow start on a
  // busy machine is not a failure. (Jest takes this option for the whole run, not per project.)
  testTimeout: 30_000,
  collectCoverageFrom: ["lib/**/*.ts"],
  // `npm test` passes --coverage, so that the threshold holds there; `npm run test:unit` does not.
  coverageThreshold: { global: { lines: 90, branches: 80 } },
};
