// Lint: typescript-eslint's type-aware recommended rules; formatting is Prettier's alone
// (eslint-config-prettier turns off the rules it owns). npm test runs both.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

// lib/'s layers, lowest first: a module may import its own layer and those below, never one above
// (import-x/no-restricted-paths refuses it). Paths are relative to lib/: a folder, or one file.
const LAYERS = [
  [
    "foundation",
    [
      // The checks every option goes through, in the folder of the options that use them most.
      "options/checks.ts",
      // The errors the foundation and the providers throw: import-free modules of errors/.
      "errors/config-error.ts",
      "errors/redis-timeout-error.ts",
      "errors/provider-api-error.ts",
      // The shapes of what a request carries in and an answer carries out, beside the adapters that use them.
      "http/headers.ts",
      "http/response.ts",
      // The one shape of a generation: import-free, beside webhooks.generations that tracks them.
      "generations/generation.ts",
      "async",
      "text",
      "logging",
      "crypto",
      "stores",
      "signatures",
    ],
  ],
  // One module per provider; they know the foundation only, and every layer above loops over them.
  ["providers", ["providers"]],
  // What a listener receives and the errors: types every layer above names.
  ["shared types", ["events", "errors"]],
  // The stages of a delivery and what they call: the inbox's interface, keeping images, telemetry.
  ["pipeline", ["pipeline", "telemetry", "images", "inbox"]],
  // What the façade builds the pipeline with and calls it through.
  ["adapters", ["http", "platform", "options", "reconcile", "generations"]],
  // The Webhooks class, createWebhooks, and the OpenAPI description of what it serves.
  ["facade", ["webhooks"]],
  // The package's entry points: what users import (entries/, which dist/ publishes at its top), and the CLI.
  ["entries", ["entries", "cli"]],
];

/** One zone per layer: its modules may import nothing from the layers above it. */
function layerZones() {
  return LAYERS.slice(0, -1)
    .map(([name, paths], index) => {
      const above = LAYERS.slice(index + 1).flatMap(([, higher]) => higher);
      const lower = LAYERS.slice(0, index + 1).flatMap(([, own]) => own);
      // A file of a lower layer inside a folder of a higher one (images/failure.ts) stays importable.
      const except = (folder) => lower.filter((path) => path.startsWith(`${folder}/`)).map((path) => `./${path.slice(folder.length + 1)}`);
      return above.map((from) => ({
        target: paths.map((path) => `./lib/${path}`),
        from: `./lib/${from}`,
        ...(except(from).length > 0 && { except: except(from) }),
        message: `lib/'s layers point down: the ${name} layer may not import ${from} (a layer above it). See LAYERS in eslint.config.mjs.`,
      }));
    })
    .flat();
}

const nodeGlobals = Object.fromEntries(
  [
    "process",
    "console",
    "require",
    "module",
    "__dirname",
    "setTimeout",
    "clearTimeout",
    "setInterval",
    "clearInterval",
    "performance",
    "URL",
    "Buffer",
    "fetch",
    "gc",
  ].map((name) => [name, "readonly"]),
);

export default tseslint.config(
  { ignores: ["dist/", "docs/api/", "node_modules/", "artifacts/", "coverage/", "example-app/public/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `void promise` marks a promise whose outcome is handled elsewhere, on purpose.
      "@typescript-eslint/no-floating-promises": ["error", { ignoreVoid: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // package.json lies outside the compiled tree, so it is read with require().
      "@typescript-eslint/no-require-imports": ["error", { allow: ["package\\.json$"] }],
    },
  },
  {
    files: ["lib/**/*.ts"],
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createNodeResolver({ extensions: [".ts", ".js", ".json"] })] },
    rules: { "import-x/no-restricted-paths": ["error", { basePath: import.meta.dirname, zones: layerZones() }] },
  },
  {
    // Tests read untyped HTTP answers and JSON: asserting on them is the point, so `any` there is not unsafe.
    files: ["__tests__/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Type-level tests: the parameters are there to be typed, not used.
    files: ["__tests__/types/**/*.ts"],
    rules: { "@typescript-eslint/no-unused-vars": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: nodeGlobals, parserOptions: { projectService: false, project: null } },
  },
  prettier,
);
