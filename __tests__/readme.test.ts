/**
 * README.md and the guides (docs/*.md, CONTRIBUTING.md, SECURITY.md, bench/README.md) as a newcomer
 * reads them: every ```ts block compiles under the project's strict options, as pasted into a
 * module of its own (with `README_CONTEXT` for the few names a fragment takes from the text around
 * it), and the pages keep what they promise.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { fencedBlocks, markdownPages, readPage, type Block } from "./helpers/markdown";

const root = join(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, { import?: { types: string } } | undefined>;
};

/**
 * What the README's fragments take from the prose around them: the Express app of "Use", the
 * providers option, a request's parts, and the custom provider of "Your own providers". Declared,
 * never run.
 */
const README_CONTEXT = `
import type { Express } from "express";
import type { Webhooks, WebhooksOptions, AnyProvider } from "imagegen-webhooks";
declare global {
  const app: Express;
  const providers: WebhooksOptions["providers"];
  const webhooks: Webhooks;
  const rawBody: Buffer;
  const request: { headers: Record<string, string> };
  const pixelforge: AnyProvider;
}
`;

/** A ```ts block and the page it is on. */
interface PageBlock extends Block {
  page: string;
}

const tsBlocks: PageBlock[] = markdownPages().flatMap((page) =>
  fencedBlocks(readPage(page))
    .filter((block) => block.lang === "ts" || block.lang === "typescript")
    .map((block) => ({ ...block, page })),
);

test("README.md's TypeScript blocks are found, each with its line", () => {
  expect(tsBlocks.filter(({ page }) => page === "README.md").length).toBeGreaterThanOrEqual(3);
  expect(tsBlocks.filter(({ page }) => page.startsWith("docs/")).length).toBeGreaterThanOrEqual(15);
  for (const { page, line } of tsBlocks) expect(readPage(page).split("\n")[line - 2]).toMatch(/^ {0,3}(`{3,}|~{3,})\s*(ts|typescript)\b/);
});

test("every ```ts block of README.md compiles under strict, as a module of its own", () => {
  // The guides' blocks too: docs/*.md, CONTRIBUTING.md, SECURITY.md and bench/README.md.
  // Under node_modules, so that a block's imports resolve as in a user's project; .mts, so that top-level await is allowed.
  mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
  const dir = mkdtempSync(join(root, "node_modules", ".cache", "readme-blocks-"));
  try {
    const files = new Map<string, PageBlock>();
    writeFileSync(join(dir, "context.mts"), `${README_CONTEXT}\nexport {};\n`);
    for (const block of tsBlocks) {
      const file = join(dir, `${block.page.replace(/\W/g, "-")}-line-${block.line}.mts`);
      // `export {}` makes each block a module: two blocks may declare the same name, as two files would.
      writeFileSync(file, `${block.code}\nexport {};\n`);
      files.set(file, block);
    }
    const { config } = ts.readConfigFile(join(root, "tsconfig.json"), (path) => ts.sys.readFile(path));
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
    const program = ts.createProgram([join(dir, "context.mts"), ...files.keys()], { ...options, noEmit: true, noUnusedLocals: false });
    const errors = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n");
      const block = diagnostic.file && files.get(diagnostic.file.fileName);
      if (!block || diagnostic.start === undefined) return `${diagnostic.file?.fileName ?? ""}: ${message}`;
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
      return `${block.page}:${block.line + line}: ${message}`;
    });
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

/**
 * The strictest options a user's own tsconfig may hold (TypeScript 7's `tsc --init` turns on
 * `exactOptionalPropertyTypes`), against the built package's declarations (dist/, as a user's
 * project gets them, checked too: `skipLibCheck: false`), with the TypeScript the repository
 * builds with and with TypeScript 7 (the `typescript7` dev dependency; ts-jest needs below 7).
 */
const STRICTEST = {
  target: "ES2022",
  lib: ["ES2022", "DOM"],
  module: "nodenext",
  moduleResolution: "nodenext",
  types: ["node"],
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  verbatimModuleSyntax: true,
  skipLibCheck: false,
  noEmit: true,
};

test.each([
  ["TypeScript 5.9", "typescript/bin/tsc"],
  ["TypeScript 7", "typescript7/bin/tsc"],
])(
  "every ```ts block of README.md compiles against the built package under the strictest user settings (exactOptionalPropertyTypes, verbatimModuleSyntax, skipLibCheck false), with %s",
  (_name, bin) => {
    mkdirSync(join(root, "node_modules", ".cache"), { recursive: true });
    const dir = mkdtempSync(join(root, "node_modules", ".cache", "readme-strictest-"));
    try {
      const names: string[] = [];
      writeFileSync(join(dir, "context.mts"), `${README_CONTEXT}\nexport {};\n`);
      for (const block of tsBlocks) {
        writeFileSync(join(dir, `readme-line-${block.line}.mts`), `${block.code}\nexport {};\n`);
        names.push(`readme-line-${block.line}.mts`);
      }
      const entries = Object.keys(pkg.exports).filter((subpath) => pkg.exports[subpath]?.import?.types);
      const paths = Object.fromEntries(
        entries.map((subpath) => [subpath.replace(/^\./, "imagegen-webhooks"), [join(root, pkg.exports[subpath]!.import!.types)]]),
      );
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { ...STRICTEST, paths }, files: ["context.mts", ...names] }),
      );
      const tsc = spawnSync(process.execPath, [join(root, "node_modules", bin), "-p", dir, "--pretty", "false"], {
        cwd: dir,
        encoding: "utf8",
      });
      const errors = `${tsc.stdout}${tsc.stderr}`
        .split("\n")
        .filter((line) => /error TS\d+/.test(line))
        .map((line) =>
          line.replace(
            /^.*readme-line-(\d+)\.mts\((\d+),\d+\)/,
            (_all, first: string, line: string) => `README.md:${Number(first) + Number(line) - 1}`,
          ),
        );
      expect(errors).toEqual([]);
      expect(tsc.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  300_000,
);

test("the README documents logger: console in a block that compiles", () => {
  expect(tsBlocks.some(({ page, code }) => page === "README.md" && /logger: console\b/.test(code))).toBe(true);
});

test("the README keeps the benchmark's table and targets, and bench/README.md the diary", () => {
  // The figures moved from README.md to bench/README.md, the benchmarks' own README, which the main one links to.
  const bench = readFileSync(join(root, "bench", "README.md"), "utf8");
  expect(bench).toMatch(/^## Performance$/m);
  expect(bench).toMatch(/\|\s*body\s*\|\s*listeners\s*\|\s*server\s*\|\s*req\/s\s*\|/);
  expect(bench).toContain("Against the issue's targets");
  for (const diary of [/inline-cache miss/i, /scavenge/i, /What the profile showed/]) {
    expect(readme).not.toMatch(diary);
    expect(bench).toMatch(diary);
  }
  expect(readme).toContain("(bench/README.md)");
});

test("the API reference is linked near the top", () => {
  const top = readme.split("\n").slice(0, 30).join("\n");
  expect(top).toMatch(/\[API reference\]\(#api-reference\)/);
  expect(readme).toMatch(/^### API reference$/m);
});

test("the API reference section names every entry point typedoc.json documents", () => {
  const typedoc = JSON.parse(
    readFileSync(join(root, "typedoc.json"), "utf8")
      .split("\n")
      .filter((line) => !line.trim().startsWith("//"))
      .join("\n"),
  ) as { entryPoints: string[] };
  const section = readme.slice(readme.indexOf("### API reference"), readme.indexOf("\n#", readme.indexOf("### API reference") + 1));
  const entries = typedoc.entryPoints.map((file) =>
    file === "lib/entries/index.ts"
      ? "imagegen-webhooks"
      : `imagegen-webhooks/${file.replace(/^lib\/entries\//, "").replace(/\/index\.ts$/, "")}`,
  );
  expect(entries).toHaveLength(7);
  expect(entries.filter((entry) => !section.includes(`\`${entry}\``))).toEqual([]);
});

test("the tunnel example sets every secret the demo reads, and counts the callback URLs the demo prints", () => {
  const server = readFileSync(join(root, "example-app", "server.ts"), "utf8");
  const secrets = [...new Set(server.match(/[A-Z]+_WEBHOOK_SECRET/g) ?? [])];
  const tunnel = readme.slice(readme.indexOf("### Point a real provider"), readme.indexOf("## Install"));
  for (const secret of secrets) expect(tunnel).toContain(`${secret}=`);
  const printed = (server.match(/POST \$\{publicUrl\}\/webhooks\//g) ?? []).length;
  const words = ["zero", "one", "two", "three", "four", "five", "six"];
  expect(tunnel).toContain(`prints the ${words[printed]} callback URLs`);
});
