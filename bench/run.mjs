// npm run bench: throughput and latency of this package's full pipeline against a bare node:http
// server, an express.json() route, and @octokit/webhooks, each server in a process of its own,
// rounds interleaved (A B C … A B C …) so that a noisy machine weighs on every server alike.
//   node bench/run.mjs [--rounds 4] [--duration 2] [--warmup 1] [--connections 10,50]
//                      [--sizes 1000,10000,100000] [--listeners 1,10,100] [--servers a,b,…]
//                      [--dist DIR]  (a build to measure; default: lib/ compiled into a scratch directory)
//                      [--json FILE] (every sample, for later comparison)
//                      [--before DIR]  (adds this package built from another tree, e.g. before a change,
//                                       as "ours-express@before" and "ours-node@before", interleaved too)
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { buildScratch } from "./build.mjs";
import { ask, median, shuffled, start } from "./harness.mjs";
import { crazyhorseTemplate, signGithub, TOKEN, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    duration: { type: "string", default: "2" },
    warmup: { type: "string", default: "1" },
    connections: { type: "string", default: "10,50" },
    sizes: { type: "string", default: "1000,10000,90000" },
    listeners: { type: "string", default: "1,10,100" },
    servers: {
      type: "string",
      default: "node-json,express-json,express-lean,ours-express,ours-node,octokit-express,octokit-node,hono-json,ours-hono",
    },
    dist: { type: "string" },
    json: { type: "string" },
    before: { type: "string" },
  },
});
const rounds = Number(flags.rounds);
const duration = Number(flags.duration);
const warmup = Number(flags.warmup);
const connectionCounts = flags.connections.split(",").map(Number);
const sizes = flags.sizes.split(",").map(Number);
const listenerCounts = flags.listeners.split(",").map(Number);
const kinds = flags.servers.split(",");
const WITH_LISTENERS = new Set([
  "ours-express",
  "ours-node",
  "ours-fetch-node",
  "ours-hono",
  "ours-bun",
  "octokit-express",
  "octokit-node",
]);
/** The server each of ours is compared with in the "× peer" column: the same mount, another package or none. */
const PEERS = {
  "ours-express": "octokit-express",
  "ours-node": "octokit-node",
  "ours-hono": "hono-json",
  "ours-fetch-node": "hono-json",
  "ours-bun": "bun-json",
};
/** Issue 28's targets: [ours, against, at least], judged on CPU per request. */
const TARGETS = [
  ["ours-express", "express-json", 1.2],
  ["ours-node", "octokit-node", 1.3],
  ["ours-hono", "hono-json", 0.9],
  ["ours-fetch-node", "hono-json", 0.9],
  ["ours-hono", "ours-node", 0.5],
  ["ours-fetch-node", "ours-node", 0.5],
  ["ours-bun", "bun-json", 0.9],
];

/** Groups run one after the other; within a group the servers' rounds interleave. */
const groups = [];
const withBefore = (group) =>
  flags.before
    ? group.flatMap((c) => (c.kind.startsWith("ours-") ? [c, { ...c, label: `${c.kind}@before`, dist: resolve(flags.before) }] : [c]))
    : group;
for (const connections of connectionCounts)
  for (const size of sizes) groups.push(withBefore(kinds.map((kind) => ({ kind, size, listeners: listenerCounts[0], connections }))));
for (const listeners of listenerCounts.slice(1)) {
  const group = kinds
    .filter((kind) => WITH_LISTENERS.has(kind))
    .map((kind) => ({ kind, size: sizes[0], listeners, connections: connectionCounts[0] }));
  if (group.length) groups.push(withBefore(group));
}

/** Each request differs by its delivery id, so dedupe never answers from memory. */
function requestFor({ kind, size }) {
  const { head, tail } = crazyhorseTemplate(size);
  if (kind.startsWith("octokit")) {
    // octokit does not dedupe: one signed body, a fresh delivery id each time, and the same
    // per-request rebuild on the client as the other servers.
    const body = head + uniqueCode() + tail;
    const headers = { "content-type": "application/json", "x-github-event": "push", "x-hub-signature-256": signGithub(body) };
    return {
      path: "/webhooks/github",
      body,
      headers,
      setupRequest: (req) => {
        req.headers = { ...headers, "x-github-delivery": uniqueCode() };
        req.body = body;
        return req;
      },
    };
  }
  const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
  return {
    path: kind.startsWith("ours-node") ? "/crazyhorse" : "/webhooks/crazyhorse",
    headers,
    setupRequest: (req) => {
      req.body = head + uniqueCode() + tail;
      return req;
    },
  };
}

async function check(server) {
  const { path, body, headers, setupRequest } = requestFor(server);
  const req = setupRequest({ headers, body });
  const res = await fetch(server.url + path, { method: "POST", headers: req.headers, body: req.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${server.kind} answered ${res.status}: ${text}`);
}

function load(server, seconds) {
  const { path, headers, setupRequest } = requestFor(server);
  return autocannon({
    url: server.url + path,
    method: "POST",
    connections: server.connections,
    duration: seconds,
    headers,
    requests: [{ method: "POST", path, headers, setupRequest }],
  });
}

const started = Date.now();
const dist = buildScratch(flags.dist);
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadavg: loadavg()
    .map((x) => x.toFixed(2))
    .join(" "),
};
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGB} GB, Node ${machine.node}, load ${machine.loadavg}`);
console.log(
  `rounds ${rounds} × ${duration}s (warm-up ${warmup}s), ${connectionCounts.join(" and ")} connections, code under test: ${dist}\n`,
);

// Each round starts every server afresh: two processes running the same code were measured up to
// 10% apart for as long as they lived (where V8 and the allocator happened to put things), which
// a run on one process per server reads as a difference between the servers. The order within a
// round is shuffled, so that no server always runs right after the same neighbour.
const results = [];
for (const group of groups) {
  const entries = group.map((config) => ({ config, samples: [], rss: [] }));
  for (let round = 0; round < rounds; round++) {
    const servers = await Promise.all(entries.map(async (entry) => ({ entry, ...(await start(entry.config, dist)) })));
    try {
      for (const server of servers) {
        await check(server);
        if (warmup > 0) await load(server, warmup);
      }
      for (const server of shuffled(servers)) {
        const before = await ask(server.child, "cpu");
        const r = await load(server, duration);
        const after = await ask(server.child, "cpu");
        server.entry.samples[round] = {
          rps: r.requests.average,
          p99: r.latency.p99,
          cpu: (after.cpu - before.cpu) / Math.max(1, r.requests.total),
          bad: r.non2xx + r.errors + r.timeouts,
        };
      }
      for (const server of servers) server.entry.rss.push((await ask(server.child)).rss);
    } finally {
      for (const server of servers) server.child.kill("SIGTERM");
    }
  }
  for (const { config, samples, rss } of entries) {
    results.push({ ...config, samples, rss: median(rss) });
    process.stdout.write(
      `${(config.label ?? config.kind).padEnd(22)} ${String(config.size).padStart(6)} B ${String(config.listeners).padStart(3)} listeners ${String(config.connections).padStart(3)} conns: ` +
        `${samples.map((s) => Math.round(s.rps)).join(" / ")} req/s\n`,
    );
  }
}

/**
 * The ratio of two servers measured in the same round, back to back; the median over rounds.
 * For throughput a / b; for CPU per request b / a, so that above 1 is better either way.
 */
function ratio(a, b, metric = "rps") {
  if (!a || !b) return undefined;
  return median(a.samples.map((s, i) => (metric === "rps" ? s.rps / b.samples[i].rps : b.samples[i].cpu / s.cpu)));
}
const find = (kind, size, listeners, connections = connectionCounts[0]) =>
  results.find((r) => !r.label && r.kind === kind && r.size === size && r.listeners === listeners && r.connections === connections);
const fmt = (x, digits = 2) => (x === undefined ? "" : x.toFixed(digits));
const kb = (size) => `${size / 1000} KB`;
/** "throughput ratio (CPU ratio)": both above 1 when the first server is the better one. */
const both = (a, b) => `${fmt(ratio(a, b))} (${fmt(ratio(a, b, "cpu"))})`;

const lines = [
  `| body | conns | listeners | server | req/s | p99 ms | CPU µs/req | × express.json() | × peer |${flags.before ? " now × before |" : ""} RSS MB | non-2xx |`,
  `| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |${flags.before ? " ---: |" : ""} ---: | ---: |`,
];
for (const r of results) {
  const baseline =
    find("express-json", r.size, r.listeners, r.connections) ?? find("express-json", r.size, listenerCounts[0], r.connections);
  const peer = PEERS[r.kind] && find(PEERS[r.kind], r.size, r.listeners, r.connections);
  const before = r.label ? find(r.kind, r.size, r.listeners, r.connections) : undefined;
  const sameGroup = baseline && baseline.listeners === r.listeners;
  lines.push(
    `| ${kb(r.size)} | ${r.connections} | ${WITH_LISTENERS.has(r.kind) ? r.listeners : "-"} | ${r.label ?? r.kind} | ${Math.round(median(r.samples.map((s) => s.rps)))} | ` +
      `${median(r.samples.map((s) => s.p99))} | ${Math.round(median(r.samples.map((s) => s.cpu)))} | ` +
      `${sameGroup ? both(r, baseline) : ""} | ${peer ? both(r, peer) : ""} | ` +
      `${flags.before ? `${before ? both(before, r) : ""} | ` : ""}` +
      `${Math.round(r.rss / 2 ** 20)} | ${r.samples.reduce((n, s) => n + s.bad, 0)} |`,
  );
}

// How each server scales: its own throughput against its own 1 KB, 1 listener figure.
const scalingColumns = sizes.length - 1 + listenerCounts.length - 1;
const scaling = [
  `| server | ${sizes
    .slice(1)
    .map((s) => `${kb(s)} / ${kb(sizes[0])}`)
    .concat(listenerCounts.slice(1).map((n) => `${n} / ${listenerCounts[0]} listeners`))
    .join(" | ")} |`,
  `| --- |${" ---: |".repeat(sizes.length - 1 + listenerCounts.length - 1)}`,
];
for (const kind of kinds) {
  const base = find(kind, sizes[0], listenerCounts[0]);
  if (!base) continue;
  const rps = (r) => (r ? median(r.samples.map((s) => s.rps)) : undefined);
  const cells = [
    ...sizes.slice(1).map((size) => fmt(rps(find(kind, size, listenerCounts[0])) / rps(base))),
    ...listenerCounts.slice(1).map((n) => (WITH_LISTENERS.has(kind) ? fmt(rps(find(kind, sizes[0], n)) / rps(base)) : "-")),
  ];
  scaling.push(`| ${kind} | ${cells.join(" | ")} |`);
}

console.log(
  `\n${lines.join("\n")}\n${scalingColumns > 0 ? `\nthroughput against the same server's ${kb(sizes[0])}, ${listenerCounts[0]} listener figure:\n${scaling.join("\n")}\n` : ""}`,
);
// Issue 28's targets, on CPU per request (throughput in brackets), with the spread over rounds.
const spread = (a, b, metric) => {
  const xs = a.samples.map((s, i) => (metric === "rps" ? s.rps / b.samples[i].rps : b.samples[i].cpu / s.cpu));
  return `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`;
};
const targetLines = [
  "| ours | against | body | conns | CPU ratio | spread | throughput ratio | target | met |",
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
];
for (const [ours, against, goal] of TARGETS)
  for (const connections of connectionCounts)
    for (const size of sizes) {
      const a = find(ours, size, listenerCounts[0], connections);
      const b = find(against, size, listenerCounts[0], connections);
      if (!a || !b) continue;
      const cpu = ratio(a, b, "cpu");
      targetLines.push(
        `| ${ours} | ${against} | ${kb(size)} | ${connections} | ${fmt(cpu)} | ${spread(a, b, "cpu")} | ${fmt(ratio(a, b))} | ≥ ${goal} | ${cpu >= goal ? "yes" : "no"} |`,
      );
    }
if (targetLines.length > 2) console.log(`issue 28's targets (CPU per request; above 1: ours is ahead):\n${targetLines.join("\n")}\n`);
console.log(
  `(${((Date.now() - started) / 1000).toFixed(0)} s; ratios are medians of per-round ratios, each pair measured back to back: throughput, and in brackets server CPU per request, both above 1 when the row's server is ahead)`,
);
if (flags.json) writeFileSync(flags.json, JSON.stringify({ machine, flags, results }, null, 2));
