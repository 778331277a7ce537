import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

// These tests load the built package (dist/) by its own name, as a user's project would.
// `npm test` builds it first; `npm run build` does it alone.
const root = join(__dirname, "..");

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: "utf8" });
}

const delivery = `
  const body = JSON.stringify(testing.crazyhorseExample);
  const webhooks = pkg.createWebhooks({ providers: { crazyhorse: { secret: "s" } } });
  webhooks.on("crazyhorse.done", (event) => console.log("event", event.generation.status));
  webhooks.receive({ provider: "crazyhorse", headers: { "content-type": "application/json" }, rawBody: body, query: "token=s" })
    .then((answer) => console.log("answer", answer.status, answer.body));
`;

beforeAll(() => {
  if (!existsSync(join(root, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does it)");
});

test("require() loads the package and its testing subpath from dist/", () => {
  const out = node(["-e", `const pkg = require("imagegen-webhooks"); const testing = require("imagegen-webhooks/testing");${delivery}`]);
  expect(out).toBe("event completed\nanswer 200 success\n");
  expect(node(["-p", `require.resolve("imagegen-webhooks")`]).trim()).toBe(join(root, "dist", "index.js"));
});

test("import loads the package and its testing subpath from dist/, as the same instance as require()", () => {
  const script = `
    import * as pkg from "imagegen-webhooks";
    import * as testing from "imagegen-webhooks/testing";
    import whole from "imagegen-webhooks";
    import { createRequire } from "node:module";
    const required = createRequire(import.meta.url)("imagegen-webhooks");
    if (pkg.createWebhooks !== required.createWebhooks || whole.createWebhooks !== required.createWebhooks) throw new Error("two instances");
    console.log(import.meta.resolve("imagegen-webhooks").endsWith("/dist/index.mjs"));
    ${delivery}`;
  expect(node(["--input-type=module", "-e", script])).toBe("true\nevent completed\nanswer 200 success\n");
});

test("the JSON Schemas ship as .json files", () => {
  const out = node(["-p", `require("imagegen-webhooks/schemas/crazyhorse.json").required.join() + " " + require("imagegen-webhooks/schemas/all-images.json").required.join()`]);
  expect(out.trim()).toBe("state,code id,type,data");
});

test("the package ships dist with its type declarations for both module systems, and no sources or tests", () => {
  const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" })) as [
    { files: { path: string }[] },
  ];
  const files = pack.files.map((file) => file.path);
  for (const file of [
    "dist/index.js",
    "dist/index.mjs",
    "dist/index.d.ts",
    "dist/index.d.mts",
    "dist/testing/index.js",
    "dist/testing/index.mjs",
    "dist/testing/index.d.ts",
    "dist/testing/index.d.mts",
    "package.json",
    "README.md",
  ]) {
    expect(files).toContain(file);
  }
  expect(files.filter((file) => file.startsWith("lib/") || file.startsWith("__tests__/"))).toEqual([]);
}, 30_000);
