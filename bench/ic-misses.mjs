// Counts V8's inline-cache misses in one benchmark server under load (node --log-ic): the property
// accesses that V8 could not answer from a cache and looked up the slow way. A site that misses on
// (nearly) every request is listed with its file, line and property. In Express every request and
// response object gets a map of its own (Express sets their prototypes), so each access to them
// misses; this is where that cost shows. A site is named by the code object it ran in (a callee V8
// inlined shows its own line numbers under its caller's script).
//   node bench/ic-misses.mjs [--server ours-express] [--requests 20000] [--size 1000] [--dist DIR] [--top 40]
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { buildScratch, root } from "./build.mjs";
import { crazyhorseTemplate, TOKEN, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    server: { type: "string", default: "ours-express" },
    requests: { type: "string", default: "20000" },
    size: { type: "string", default: "1000" },
    dist: { type: "string" },
    top: { type: "string", default: "40" },
  },
});
if (flags.server.startsWith("octokit"))
  throw new Error("ic-misses.mjs sends this package's deliveries: count ours-*, node-json, express-json or express-lean");

const dist = buildScratch(flags.dist);
const dir = mkdtempSync(join(root, "node_modules", ".cache", "bench-ic-"));
const log = join(dir, "v8.log");
const child = fork(join(root, "bench/server.mjs"), [flags.server, "1", dist], {
  execArgv: ["--log-ic", `--logfile=${log}`, "--no-logfile-per-isolate"],
});
const port = await new Promise((resolve) => child.once("message", (m) => resolve(m.port)));
const { head, tail } = crazyhorseTemplate(Number(flags.size));
const path = flags.server === "ours-node" ? "/crazyhorse" : "/webhooks/crazyhorse";
const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
const requests = Number(flags.requests);
const result = await autocannon({
  url: `http://127.0.0.1:${port}${path}`,
  method: "POST",
  connections: 10,
  amount: requests,
  headers,
  requests: [{ method: "POST", path, headers, setupRequest: (req) => ({ ...req, body: head + uniqueCode() + tail }) }],
});
await new Promise((resolve) => {
  child.once("exit", resolve);
  child.kill("SIGTERM");
});
if (result.non2xx > 0) throw new Error(`${flags.server} answered ${result.non2xx} requests with a non-2xx status`);

// code-creation lines give each code object's address range and name; IC lines the pc of a miss.
const codes = [];
const misses = [];
for (const line of readFileSync(log, "latin1").split("\n")) {
  const fields = line.split(",");
  if (fields[0] === "code-creation") {
    const start = Number.parseInt(fields[4], 16);
    codes.push({ start, end: start + Number(fields[5]), name: fields[6] ?? "?" });
  } else if (/^(Keyed)?(Load|Store)(Global)?IC$/.test(fields[0])) {
    misses.push({ pc: Number.parseInt(fields[1], 16), time: Number(fields[2]), line: fields[3], column: fields[4], key: fields[8] });
  }
}
rmSync(dir, { recursive: true, force: true });
codes.sort((a, b) => a.start - b.start);
function codeAt(pc) {
  let lo = 0;
  let hi = codes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (codes[mid].start <= pc) lo = mid + 1;
    else hi = mid - 1;
  }
  const code = codes[hi];
  return code && pc < code.end ? code.name : "?";
}

// The first third of the run is warm-up (feedback still being gathered): only the rest is counted.
const first = misses[0]?.time ?? 0;
const last = misses.at(-1)?.time ?? 0;
const from = first + (last - first) / 3;
const counted = misses.filter((m) => m.time >= from);
const measured = Math.round((requests * 2) / 3);
const sites = new Map();
for (const m of counted) {
  // The code object's name ends with its script and position; the miss's own line and column follow.
  const script = codeAt(m.pc)
    .split(" ")
    .at(-1)
    .replace(/:\d+:\d+$/, "")
    .replace(`${dist}/`, "lib/")
    .replace(/^.*node_modules\//, "");
  const key = `${script}:${m.line}:${m.column} .${m.key}`;
  sites.set(key, (sites.get(key) ?? 0) + 1);
}
const everyRequest = [...sites].filter(([, n]) => n >= measured * 0.5).sort((a, b) => b[1] - a[1]);
console.log(
  `${flags.server}: ${(counted.length / measured).toFixed(0)} inline-cache misses per request (the last two thirds of ${requests} requests)`,
);
console.log(`${everyRequest.length} sites miss on at least every other request:`);
for (const [site, n] of everyRequest.slice(0, Number(flags.top))) console.log(`${(n / measured).toFixed(2).padStart(6)}  ${site}`);
