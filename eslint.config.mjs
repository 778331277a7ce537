// Lint: typescript-eslint's type-aware recommended rules; formatting is Prettier's alone
// (eslint-config-prettier turns off the rules it owns). npm test runs both.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

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
