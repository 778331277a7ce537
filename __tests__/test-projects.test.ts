/**
 * The split of jest.config.js: `npm run test:unit` (the "unit" project) runs with no Redis, browser,
 * other runtime, dist/ or child process, and `npm test` runs every file, each in one project.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";

const root = join(__dirname, "..");
const tests = join(root, "__tests__");

interface Project {
  displayName: string;
  testMatch: string[];
  testPathIgnorePatterns: string[];
  globalSetup?: string;
}
// jest.config.js is CommonJS, as jest loads it.
const config = createRequire(__filename)("../jest.config.js") as { projects: Project[] };
const project = (name: string) => {
  const found = config.projects.find((p) => p.displayName === name);
  if (!found) throw new Error(`jest.config.js has no "${name}" project`);
  return found;
};

const allTestFiles = (dir = tests): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return allTestFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(tests, path)] : [];
  });

const ignoredBy = (name: string, file: string) =>
  project(name).testPathIgnorePatterns.some((pattern) => new RegExp(pattern.replace("<rootDir>", root)).test(join(tests, file)));
const named = project("integration").testMatch.map((glob) => glob.replace("<rootDir>/__tests__/", ""));
const integrationFiles = named.filter((file) => !ignoredBy("integration", file));
const unitFiles = allTestFiles().filter((file) => !ignoredBy("unit", file));
// The Express 4 run (EXPRESS_MAJOR=4) leaves out the runtimes, which involve no Express, and the demo's browser tests.
const notWithExpress4 = ["runtimes/", "example-app/browser.test.ts", "example-app/two-processes.test.ts"];
const runFiles = allTestFiles().filter(
  (file) => process.env.EXPRESS_MAJOR !== "4" || !notWithExpress4.some((path) => file.startsWith(path)),
);

/** What a unit test may not reach for, and how to recognise it in a test's source or its helpers'. */
const OUTSIDE_THE_PROCESS: [string, RegExp][] = [
  ["Redis", /helpers\/redis-server|suiteRedisUrl|new Redis\(/],
  ["a child process", /node:child_process/],
  ["a browser", /playwright/],
  ["Bun, Deno or workerd", /runtime-process|miniflare/],
  ["the built dist/", /\(root, "dist"|["'`](\.\/)?dist\//],
];

/** A test file's source and that of the helpers it imports from __tests__, transitively. */
function sources(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file) || !existsSync(file)) return [];
  seen.add(file);
  const text = readFileSync(file, "utf8");
  const imported = [...text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) => resolve(dirname(file), `${m[1]}.ts`));
  return [text, ...imported.filter((path) => path.startsWith(tests)).flatMap((path) => sources(path, seen))];
}

test("every test file runs in exactly one project, and each file the integration project names exists", () => {
  expect(named.filter((file) => !existsSync(join(tests, file)))).toEqual([]);
  const unit = new Set(unitFiles);
  expect(integrationFiles.filter((file) => unit.has(file))).toEqual([]);
  expect([...unit, ...integrationFiles].sort()).toEqual(runFiles.sort());
});

test("the unit project's files use no Redis, child process, browser, other runtime or dist/", () => {
  // This file names the markers, so it is left out of its own scan.
  const reaching = unitFiles
    .filter((file) => join(tests, file) !== __filename)
    .flatMap((file) => {
      const text = sources(join(tests, file)).join("\n");
      return OUTSIDE_THE_PROCESS.filter(([, marker]) => marker.test(text)).map(([what]) => `${file} uses ${what}`);
    });
  expect(reaching).toEqual([]);
  // The check has teeth: the files it sends to the integration project are caught by it.
  for (const file of [
    "stores/redis-store.test.ts",
    "cli.test.ts",
    "example-app/browser.test.ts",
    "runtimes/bun-deno.test.ts",
    "openapi.test.ts",
  ]) {
    const text = sources(join(tests, file)).join("\n");
    expect([file, OUTSIDE_THE_PROCESS.some(([, marker]) => marker.test(text))]).toEqual([file, true]);
  }
});

test("only the integration project starts the suite's redis-server", () => {
  expect(project("unit").globalSetup).toBeUndefined();
  expect(project("integration").globalSetup).toBe("<rootDir>/__tests__/helpers/redis-global-setup.ts");
});

test("npm test ends in jest --coverage, so that the coverage threshold holds and `npm test -- --json …` reaches jest; test:unit runs the unit project", () => {
  const { scripts } = require("../package.json") as { scripts: Record<string, string> };
  expect(scripts.test).toMatch(/&& NODE_OPTIONS=--unhandled-rejections=strict jest --coverage$/);
  expect(scripts["test:unit"]).toBe("NODE_OPTIONS=--unhandled-rejections=strict jest --selectProjects unit");
});
