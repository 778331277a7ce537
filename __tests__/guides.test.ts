/**
 * README.md and the guides as a newcomer follows them: every relative link between README.md,
 * docs/*.md, CONTRIBUTING.md, SECURITY.md and bench/README.md reaches its file, and its #anchor a
 * heading there; every options table matches the type it documents, both ways.
 */
import { existsSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import ts from "typescript";
import { anchors, guidePages, headings, links, markdownPages, readPage, root, slug, tablesAfterMarkers } from "./helpers/markdown";

const pages = markdownPages();

test("the guides are there, each linked from README.md", () => {
  const readmeTargets = new Set(links(readPage("README.md")).map(({ target }) => target.split("#")[0]));
  for (const guide of [
    "inbox",
    "generations",
    "images",
    "runtimes",
    "observability",
    "security",
    "custom-providers",
    "cli",
    "providers",
    "options",
  ]) {
    expect(guidePages()).toContain(`docs/${guide}.md`);
    expect(readmeTargets).toContain(`docs/${guide}.md`);
  }
  for (const page of ["CONTRIBUTING.md", "SECURITY.md", "bench/README.md"]) expect(readmeTargets).toContain(page);
});

test("every relative link between README.md, the guides, CONTRIBUTING.md, SECURITY.md and bench/README.md lands: its file, and its #anchor", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages) {
    for (const { target, line } of links(readPage(page))) {
      if (/^[a-z][a-z\d+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
      checked++;
      const [path = "", anchor] = target.split("#");
      const file = path === "" ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      const where = `${page}:${line}: ${target}`;
      if (relative(root, join(root, file)).startsWith("..") || !existsSync(join(root, file))) {
        broken.push(`${where}: no file ${file}`);
        continue;
      }
      if (anchor === undefined) continue;
      const heading = file.endsWith(".md") ? headings(readPage(file)).get(anchor) : undefined;
      if (heading === undefined) broken.push(`${where}: no heading with the anchor #${anchor} in ${file}`);
      // `npm run docs` renders these pages too, and TypeDoc's anchors leave a heading's code out.
      else if (heading.includes("`")) broken.push(`${where}: #${anchor} is a heading with code, whose anchor differs in TypeDoc`);
    }
  }
  expect(broken).toEqual([]);
  expect(checked).toBeGreaterThan(50);
});

test("anchors are made as GitHub makes them", () => {
  expect(slug("The durable inbox: nothing acknowledged is lost")).toBe("the-durable-inbox-nothing-acknowledged-is-lost");
  expect(slug("crazyhorse.ai")).toBe("crazyhorseai");
  expect(slug("`keepImages` options")).toBe("keepimages-options");
  expect(slug("Each provider's options")).toBe("each-providers-options");
  expect([...anchors("# A\n\n```sh\n# not a heading\n```\n\n## A\n")]).toEqual(["a", "a-1"]);
});

/** Every `…Options` type that the package's entry points export (but testing's), with its options' names. */
function exportedOptionTypes(): Map<string, string[]> {
  const typedoc = ts.parseConfigFileTextToJson("typedoc.json", ts.sys.readFile(join(root, "typedoc.json")) ?? "").config as {
    entryPoints: string[];
  };
  const { config } = ts.readConfigFile(join(root, "tsconfig.json"), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  // The testing helpers' options (sendDelivery's, simulateJob's…) are documented in the API reference alone.
  const entries = typedoc.entryPoints.filter((entry) => !entry.startsWith("lib/entries/testing/")).map((entry) => join(root, entry));
  const program = ts.createProgram(entries, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const types = new Map<string, string[]>();
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!);
    for (const exported of module ? checker.getExportsOfModule(module) : []) {
      if (!/Options$/.test(exported.name)) continue;
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (!(symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias))) continue;
      types.set(
        exported.name,
        checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((property) => property.name),
      );
    }
  }
  return types;
}

/** The option a row is about: its first cell's code, past any `providers.<name>.` or `signature.` before it. */
function optionOfRow(cell: string): string {
  const code = /`([^`]+)`/.exec(cell)?.[1] ?? cell;
  return code.slice(code.lastIndexOf(".") + 1);
}

const OPTIONS_MARKER = /^<!--\s*options:\s*(\w+)\s*-->$/;

/** What is wrong between the options tables of `pages` and the option types: each problem with its page and line. */
function optionTableProblems(types: Map<string, string[]>, pages: { page: string; markdown: string }[]): string[] {
  const tables = pages.flatMap(({ page, markdown }) => tablesAfterMarkers(markdown, OPTIONS_MARKER).map((found) => ({ ...found, page })));
  const problems: string[] = [];
  for (const { name, table, page, line } of tables) {
    const options = types.get(name);
    if (!options) problems.push(`${page}:${line}: a table for ${name}, which no entry point exports`);
    if (!table) problems.push(`${page}:${line}: no table after the marker of ${name}`);
    if (!options || !table) continue;
    const rows = table.firstCells.map(optionOfRow);
    for (const option of options) if (!rows.includes(option)) problems.push(`${page}:${table.line}: ${name}'s table lacks ${option}`);
    for (const row of rows) if (!options.includes(row)) problems.push(`${page}:${table.line}: ${name} has no option ${row}`);
  }
  for (const name of types.keys()) {
    if (!tables.some((found) => found.name === name)) problems.push(`no table marked <!-- options: ${name} -->`);
  }
  return problems;
}

test("every options table lists exactly the options of its type, and every options type has one", () => {
  const types = exportedOptionTypes();
  expect([...types.keys()]).toEqual(
    expect.arrayContaining(["WebhooksOptions", "ProviderOptions", "ReconcileOptions", "KeepImagesOptions"]),
  );
  expect(
    optionTableProblems(
      types,
      pages.map((page) => ({ page, markdown: readPage(page) })),
    ),
  ).toEqual([]);
}, 60_000);

test("an options table that lacks an option, or names one its type does not have, is found", () => {
  const types = new Map([
    ["ReconcileOptions", ["afterMs", "everyMs", "timeoutMs"]],
    ["ProviderOptions", ["secret", "apiToken"]],
  ]);
  const markdown = [
    "<!-- options: ReconcileOptions -->",
    "",
    "| option | default | |",
    "| --- | --- | --- |",
    "| `afterMs` | 10 minutes | |",
    "| `everyMinutes` | | |",
    "| `timeoutMs` | | |",
    "",
    "<!-- options: ProviderOptions -->",
    "",
    "| option | default | |",
    "| --- | --- | --- |",
    "| `providers.<name>.secret` | | |",
    "| `providers.<name>.apiToken` | | |",
    "",
    "<!-- options: LostOptions -->",
    "",
  ].join("\n");
  expect(optionTableProblems(types, [{ page: "x.md", markdown }])).toEqual([
    "x.md:3: ReconcileOptions's table lacks everyMs",
    "x.md:3: ReconcileOptions has no option everyMinutes",
    "x.md:16: a table for LostOptions, which no entry point exports",
    "x.md:16: no table after the marker of LostOptions",
  ]);
  expect(optionTableProblems(types, [])).toEqual([
    "no table marked <!-- options: ReconcileOptions -->",
    "no table marked <!-- options: ProviderOptions -->",
  ]);
});
