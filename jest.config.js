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
  },
  collectCoverageFrom: ["lib/**/*.ts"],
  coverageThreshold: { global: { lines: 90, branches: 80 } },
};
