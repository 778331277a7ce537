/**
 * The API reference (`npm run docs`, TypeDoc, typedoc.json): it covers every entry point that
 * package.json exports, and every export of them carries a doc comment.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";

const root = join(__dirname, "..");
// typedoc.json has comments: read it as TypeScript reads its own tsconfig.json.
const typedoc = ts.parseConfigFileTextToJson("typedoc.json", readFileSync(join(root, "typedoc.json"), "utf8")).config as {
  entryPoints: string[];
  out: string;
};
const pkg = require("../package.json") as {
  exports: Record<string, string | { require?: { default?: string } }>;
  scripts: Record<string, string>;
};

test("documents every code entry point of package.json's exports", () => {
  const exported = Object.values(pkg.exports)
    .map((target) => (typeof target === "object" ? target.require?.default : undefined))
    .filter((file): file is string => file !== undefined)
    .map((file) => file.replace(/^\.\/dist\//, "lib/entries/").replace(/\.js$/, ".ts"));
  expect([...typedoc.entryPoints].sort()).toEqual(exported.sort());
});

test("`npm run docs` writes the reference to docs/api/, which git ignores", () => {
  expect(pkg.scripts.docs).toBe("typedoc");
  expect(typedoc.out).toBe("docs/api");
  const ignored = spawnSync("git", ["check-ignore", "-q", "docs/api/index.html"], { cwd: root });
  expect(ignored.status).toBe(0);
});

test("every public export has a doc comment, and every type it refers to is exported (typedoc's validation)", () => {
  const run = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "typedoc", "bin", "typedoc"),
      "--validation.notDocumented",
      "--validation.notExported",
      "--treatWarningsAsErrors",
      "--emit",
      "none",
    ],
    { cwd: root, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } },
  );
  const output = `${run.stdout}${run.stderr}`;
  expect(output.split("\n").filter((line) => /\[(warning|error)\]/.test(line))).toEqual([]);
  expect(run.status).toBe(0);
}, 120_000);

test("the README's API reference names every entry point it covers", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("### API reference"), readme.indexOf("\n#", readme.indexOf("### API reference") + 1));
  const entries = Object.entries(pkg.exports)
    .filter(([, target]) => typeof target === "object")
    .map(([subpath]) => subpath.replace(/^\./, "imagegen-webhooks"));
  expect(entries).toHaveLength(typedoc.entryPoints.length);
  for (const entry of entries) expect(section).toContain(`\`${entry}\``);
  expect(section).toContain("`npm run docs`");
});
