/** @type {import("jest").Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json" }] },
  // The demo imports the package by its name, as a user would; the tests run it against the source.
  moduleNameMapper: {
    "^imagegen-webhooks$": "<rootDir>/lib/index.ts",
    "^imagegen-webhooks/testing$": "<rootDir>/lib/testing/index.ts",
    "^imagegen-webhooks/redis$": "<rootDir>/lib/redis/index.ts",
    "^imagegen-webhooks/bullmq$": "<rootDir>/lib/bullmq/index.ts",
    "^imagegen-webhooks/s3$": "<rootDir>/lib/s3/index.ts",
    "^imagegen-webhooks/web$": "<rootDir>/lib/web/index.ts",
    "^imagegen-webhooks/fastify$": "<rootDir>/lib/fastify/index.ts",
    // EXPRESS_MAJOR=4 runs the whole suite against Express 4 (the dev dependency aliased express4),
    // since the peer range takes both majors; .ci/run runs it once with each.
    ...(process.env.EXPRESS_MAJOR === "4" ? { "^express$": "express4", "^express/(.*)$": "express4/$1" } : {}),
  },
  // The runtime tests (Bun, Deno, Workers, Hono, Fastify) involve no Express: the Express 4 run skips them.
  testPathIgnorePatterns: ["/node_modules/", ...(process.env.EXPRESS_MAJOR === "4" ? ["<rootDir>/__tests__/runtimes/"] : [])],
  // A throwaway redis-server when REDIS_URL is unset: __tests__/helpers/redis-global-setup.ts.
  globalSetup: "<rootDir>/__tests__/helpers/redis-global-setup.ts",
  globalTeardown: "<rootDir>/__tests__/helpers/redis-global-teardown.ts",
  collectCoverageFrom: ["lib/**/*.ts"],
  coverageThreshold: { global: { lines: 90, branches: 80 } },
};
