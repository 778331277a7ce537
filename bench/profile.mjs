// Profiles one benchmark server under load (node --cpu-prof) and prints where its time goes:
// self time by function and by package/module, so that the hot path's costs can be read off.
//   node bench/profile.mjs [--server ours-express] [--size 1000] [--listeners 1] [--connections 10] [--duration 10] [--dist DIR] [--top 30]
import { fork } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { buildScratch, root } from "./build.mjs";
import { crazyhorseTemplate, TOKEN, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    server: { type: "string", default: "ours-express" },
    size: { type: "string", default: "1000" },
    listeners: { type: "string", default: "1" },
    connections: { type: "string", default: "10" },
    duration: { type: "string", default: "10" },
    top: { type: "string", default: "30" },
    dist: { type: "string" },
    keep: { type: "string" },
  },
});
if (flags.server.startsWith("octokit"))
  throw new Error("profile.mjs sends this package's deliveries: profile ours-*, node-json, express-json, express-lean or hono-json");

// The profile names files by their real path (node_modules may be a link to a shared install).
const dist = realpathSync(buildScratch(flags.dist));
const dir = flags.keep ?? mkdtempSync(join(root, "node_modules", ".cache", "bench-profile-"));
const child = fork(join(root, "bench/server.mjs"), [flags.server, flags.listeners, dist], {
  execArgv: ["--cpu-prof", "--cpu-prof-dir", dir],
});
const port = await new Promise((resolve) => child.once("message", (m) => resolve(m.port)));
const { head, tail } = crazyhorseTemplate(Number(flags.size));
const path = flags.server === "ours-node" ? "/crazyhorse" : "/webhooks/crazyhorse";
const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
const result = await autocannon({
  url: `http://127.0.0.1:${port}${path}`,
  method: "POST",
  connections: Number(flags.connections),
  duration: Number(flags.duration),
  headers,
  requests: [{ method: "POST", path, headers, setupRequest: (req) => ({ ...req, body: head + uniqueCode() + tail }) }],
});
await new Promise((resolve) => {
  child.once("exit", resolve);
  child.kill("SIGTERM");
});
console.log(`${flags.server}: ${Math.round(result.requests.average)} req/s under the profiler, ${result.non2xx} non-2xx`);

const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
const profile = JSON.parse(readFileSync(join(dir, file), "utf8"));
if (!flags.keep) rmSync(dir, { recursive: true, force: true });

// Self time per node: samples × the mean interval.
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const total = profile.samples.length;
const where = (cf) => {
  const url = cf.url.replace(/^file:\/\//, "");
  if (!url) return "(native)";
  if (url.startsWith("node:")) return url;
  // The code under test, wherever it was built, reads as lib/ (its .js names); the entries, which
  // the build lifts from lib/entries/ to the top of dist/, as lib/entries/.
  if (url.startsWith(`${dist}/`)) {
    const built = url.slice(dist.length + 1);
    const lifted = existsSync(join(root, "lib/entries", built.replace(/\.js$/, ".ts")));
    return lifted ? `lib/entries/${built}` : `lib/${built}`;
  }
  const nm = url.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return relative(root, url);
};
const fns = new Map();
const mods = new Map();
for (const [id, n] of counts) {
  const cf = byId.get(id).callFrame;
  const key = `${cf.functionName || "(anonymous)"}  ${where(cf)}:${cf.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + n);
  mods.set(where(cf), (mods.get(where(cf)) ?? 0) + n);
}
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
console.log(`\nself time by module (${total} samples):`);
for (const [k, n] of [...mods].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(n)}  ${k}`);
console.log("\nself time by function:");
for (const [k, n] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(flags.top))) console.log(`${pct(n)}  ${k}`);

// Inclusive time of this package's own functions: what each stage costs with what it calls.
const parents = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
const inclusive = new Map();
for (const [id, n] of counts) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parents.get(at)) {
    const cf = byId.get(at).callFrame;
    const w = where(cf);
    if (!w.startsWith("lib/")) continue;
    const key = `${cf.functionName || "(anonymous)"}  ${w}:${cf.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + n);
  }
}
console.log("\ninclusive time of the package's functions:");
for (const [k, n] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(n)}  ${k}`);
