// npm run bench:micro: the costs that the HTTP benchmark hides.
//  1. ajv: ns per validation of crazyhorse's documented example, with and without date-time checking;
//  2. the memory store: ns per new key at steady state (full, evicting) with 10k and 100k entries,
//     against a Map that evicts its first key through keys().next(), the trap the store avoids;
//  3. resident memory across 1,000,000 deliveries through receive(), dedupe on, after GC at checkpoints.
//   node --expose-gc bench/micro.mjs [--deliveries 1000000] [--dist DIR]
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { buildScratch, root } from "./build.mjs";
import { TOKEN } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    deliveries: { type: "string", default: "1000000" },
    dist: { type: "string" },
  },
});
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
const dist = buildScratch(flags.dist);
const load = createRequire(import.meta.url);
const pkg = load(join(dist, "index.js"));
const { compileValidator } = load(join(dist, "pipeline/validate.js"));
const { MemoryStore } = load(join(dist, "stores/memory-store.js"));

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** ns per call of fn: the median of several timed batches, after a warm-up batch. */
function nsPerCall(fn, calls = 1_000_000, batches = 7) {
  fn(calls / 10);
  const times = [];
  for (let b = 0; b < batches; b++) {
    const t = process.hrtime.bigint();
    fn(calls);
    times.push(Number(process.hrtime.bigint() - t) / calls);
  }
  return median(times);
}

// 1. ajv
const example = JSON.parse(readFileSync(join(root, "__tests__/fixtures/crazyhorse-done.json"), "utf8"));
const validate = compileValidator(pkg.crazyhorseSchema);
let sink = 0;
const validation = nsPerCall((n) => {
  for (let i = 0; i < n; i++) validate(example);
});
const bare = (formats) => {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
  if (formats) addFormats(ajv, ["date-time"]);
  else ajv.addFormat("date-time", true);
  const check = ajv.compile(pkg.crazyhorseSchema);
  return nsPerCall((n) => {
    for (let i = 0; i < n; i++) sink += check(example) ? 1 : 0;
  });
};
const ajvFull = bare(true);
const ajvNoFormat = bare(false);
console.log("ajv, crazyhorse's documented example (ns per call, median of 7 batches of 1M):");
console.log(`  the package's validator (date-time checked)  ${validation.toFixed(0)} ns`);
console.log(`  ajv + ajv-formats' own date-time            ${ajvFull.toFixed(0)} ns`);
console.log(`  ajv, date-time not checked (reference)       ${ajvNoFormat.toFixed(0)} ns`);

// 2. the memory store at steady state
/** The trap: a Map's first key is its oldest, but reaching it walks over the holes deletes left. */
class FirstKeyStore {
  constructor(maxEntries) {
    this.maxEntries = maxEntries;
    this.entries = new Map();
  }
  claim(key) {
    if (this.entries.has(key)) return "done";
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value);
    this.entries.set(key, "in-flight");
    return "claimed";
  }
  complete(key) {
    if (this.entries.has(key)) this.entries.set(key, "done");
  }
}
console.log("\nmemory store, ns per new delivery (claim + complete) once full, so that each one evicts:");
for (const size of [10_000, 100_000]) {
  const row = [];
  for (const Store of [MemoryStore, FirstKeyStore]) {
    const store = Store === MemoryStore ? new MemoryStore({ maxEntries: size }) : new FirstKeyStore(size);
    let k = 0;
    const insert = (n) => {
      for (let i = 0; i < n; i++) {
        const key = `crazyhorse:${k++}:done`;
        store.claim(key);
        store.complete(key);
      }
    };
    insert(size * 2);
    row.push(nsPerCall(insert, Store === MemoryStore ? 1_000_000 : 20_000, 5));
  }
  console.log(
    `  ${String(size).padStart(7)} entries: memory store ${row[0].toFixed(0)} ns; Map keys().next() eviction ${row[1].toFixed(0)} ns`,
  );
}

// 3. RSS across many deliveries
const deliveries = Number(flags.deliveries);
const webhooks = pkg.createWebhooks({ providers: { crazyhorse: { secret: TOKEN } } });
let handled = 0;
webhooks.on("crazyhorse.done", () => void handled++);
const head = '{"state":"DONE","code":"';
const tail = `","generateImageUrls":${JSON.stringify(example.generateImageUrls)},"params":{"hair":"red"},"createdAt":"2023-10-09T11:11:07.174Z"}`;
const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
const rss = () => {
  gc();
  gc();
  return process.memoryUsage().rss;
};
const checkpoints = [];
const step = Math.max(1, Math.floor(deliveries / 10));
const t0 = process.hrtime.bigint();
for (let i = 1; i <= deliveries; i++) {
  const answer = await webhooks.receive({ provider: "crazyhorse", headers, rawBody: Buffer.from(head + i.toString(36) + tail), query: "" });
  if (answer.status !== 200) throw new Error(`delivery ${i} answered ${answer.status}: ${answer.body}`);
  if (i % step === 0) checkpoints.push({ deliveries: i, rss: rss() });
}
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const mb = (b) => (b / 2 ** 20).toFixed(1);
console.log(
  `\nRSS after GC across ${deliveries} deliveries through receive() (dedupe on, default store of 50,000 keys; ${((elapsed * 1e6) / deliveries).toFixed(1)} µs per delivery):`,
);
console.log(`  ${checkpoints.map((c) => `${c.deliveries / 1000}k ${mb(c.rss)} MB`).join(", ")}`);
// Once the store is full (50,000 keys) the memory in use should stay put: compare every later
// checkpoint with the first one past twice that.
const full = checkpoints.findIndex((c) => c.deliveries >= 100_000);
if (full !== -1) {
  const base = checkpoints[full].rss;
  const growth = (Math.max(...checkpoints.slice(full).map((c) => c.rss)) - base) / base;
  console.log(
    `  largest RSS from ${checkpoints[full].deliveries / 1000}k deliveries on: ${(growth * 100).toFixed(1)}% over it (target: within 10%); ${handled} handled`,
  );
}
if (sink < 0) console.log(sink);
