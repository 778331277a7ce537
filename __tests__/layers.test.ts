// lib/'s layers point down, and a lint rule says so (eslint.config.mjs's LAYERS, through
// import-x/no-restricted-paths): a module that imports a layer above its own is refused.
import { execFile } from "node:child_process";
import { resolve } from "node:path";

// Only the layering rule, without type information: the files linted here exist only as text. ESLint
// loads its flat config with a dynamic import, which jest's module sandbox refuses: it runs in a node
// process of its own, once for every file below.
const LINT = `
import { ESLint } from "eslint";
const eslint = new ESLint({
  ruleFilter: ({ ruleId }) => ruleId === "import-x/no-restricted-paths",
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
});
const results = [];
for (const [filePath, code] of JSON.parse(process.argv[1])) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push(result.messages.map((m) => (m.ruleId ?? "parse") + ": " + m.message));
}
process.stdout.write(JSON.stringify(results));
`;

const FILES = {
  providerClimbing: [
    "lib/providers/upward.ts",
    'import { identify } from "../pipeline/index";\nimport { Webhooks } from "../webhooks/webhooks";\nexport const used = [identify, Webhooks];\n',
  ],
  sharedTypesClimbing: ["lib/events/event-map.ts", 'import type { Receiver } from "../pipeline/index";\nexport type R = Receiver;\n'],
  pipelineClimbing: ["lib/pipeline/upward.ts", 'import { resolveOptions } from "../options/index";\nexport const r = resolveOptions;\n'],
  pipelineDownward: ["lib/pipeline/downward.ts", 'import { providers } from "../providers/index";\nexport const p = providers;\n'],
  lowerFileInHigherFolder: [
    "lib/options/checks.ts",
    'import { ConfigError } from "../errors/config-error";\nexport const C = ConfigError;\n',
  ],
} as const;

let messages: Record<keyof typeof FILES, string[]>;

beforeAll(async () => {
  const names = Object.keys(FILES) as (keyof typeof FILES)[];
  const stdout = await new Promise<string>((done, fail) => {
    const args = ["--input-type=module", "-e", LINT, JSON.stringify(names.map((name) => FILES[name]))];
    execFile(process.execPath, args, { cwd: resolve(__dirname, ".."), timeout: 120_000 }, (error, out, stderr) =>
      error ? fail(new Error(`eslint failed: ${stderr}`)) : done(out),
    );
  });
  const results = JSON.parse(stdout) as string[][];
  messages = Object.fromEntries(names.map((name, i) => [name, results[i]!])) as typeof messages;
}, 120_000);

test("a provider that imports the pipeline or the façade is refused, naming the layer it climbed to", () => {
  expect(messages.providerClimbing).toEqual([
    expect.stringMatching(/^import-x\/no-restricted-paths: .*the providers layer may not import pipeline/),
    expect.stringMatching(/^import-x\/no-restricted-paths: .*the providers layer may not import webhooks/),
  ]);
});

test("the shared types may not import the pipeline, and the pipeline may not import options/", () => {
  expect(messages.sharedTypesClimbing).toEqual([expect.stringMatching(/the shared types layer may not import pipeline/)]);
  expect(messages.pipelineClimbing).toEqual([expect.stringMatching(/the pipeline layer may not import options/)]);
});

test("an import downward, or of a lower layer's file inside a higher folder, is accepted", () => {
  expect(messages.pipelineDownward).toEqual([]);
  expect(messages.lowerFileInHigherFolder).toEqual([]);
});
