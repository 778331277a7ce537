// What each feature that is off costs a delivery: the package as built against copies of it in
// which one feature's code is cut out of the delivery's path (its call sites patched in the
// compiled JavaScript), all driven in this process through webhooks.receive(), in interleaved
// rounds, with the same options (no OpenTelemetry SDK, `generations: false`, no `keepImages`, no
// inbox). A `control` copy, patched nowhere, shows what two identical builds measure apart.
//   node --expose-gc --single-threaded bench/features-off.mjs [--rounds 200] [--deliveries 1000] [--batch 50] [--copies 1] [--size 1000] [--dist DIR] [--against DIR] [--aa]
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildScratch } from "./build.mjs";
import { crazyhorseTemplate, TOKEN, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "200" },
    deliveries: { type: "string", default: "1000" },
    size: { type: "string", default: "1000" },
    dist: { type: "string" },
    copies: { type: "string", default: "1" },
    aa: { type: "boolean", default: false },
    batch: { type: "string", default: "50" },
    against: { type: "string" },
  },
});
// getrusage, which process.cpuUsage reads, is exact for the calling thread only: the collector's and
// the compiler's helper threads would be counted a tick late, in whichever batch was running then.
if (typeof globalThis.gc !== "function" || !process.execArgv.includes("--single-threaded")) {
  throw new Error("run with node --expose-gc --single-threaded");
}
const ROUNDS = Number(flags.rounds);
const DELIVERIES = Number(flags.deliveries);
const BATCH = Number(flags.batch);

/**
 * Each feature's code on the path of a delivery, and what replaces it where the feature is
 * absent: [file, text as compiled, replacement]. A text found other than once stops the bench,
 * so that a change to the source cannot leave a variant silently unpatched.
 */
const FEATURES = {
  telemetry: [
    ["pipeline/receive.js", "    const { telemetry } = receiver;\n", ""],
    ["pipeline/receive.js", "        span: telemetry && (0, index_1.startDeliverySpan)(telemetry, provider.name, startedAt),\n", ""],
    [
      "pipeline/receive.js",
      "const verdict = delivery.span ? (0, index_1.withSpan)(delivery.span, storeOrHandle, delivery) : storeOrHandle(delivery);",
      "const verdict = storeOrHandle(delivery);",
    ],
    ["pipeline/receive.js", "logger_1.silentLogger && !receiver.telemetry)", "logger_1.silentLogger)"],
    [
      "pipeline/receive.js",
      "    if (receiver.telemetry)\n        (0, index_1.recordDelivery)(receiver.telemetry, line, delivery.span, event.generation.id);\n",
      "",
    ],
    [
      "pipeline/keep-images.js",
      '(receiver.emitter, [event.name, event.provider, "*"], event, receiver.telemetry?.callListener)',
      '(receiver.emitter, [event.name, event.provider, "*"], event)',
    ],
    [
      "pipeline/keep-images.js",
      "return recording.then(() => (0, listeners_1.emitEvent)(receiver.emitter, event, movedForward, receiver.telemetry?.callListener));",
      "return recording.then(() => (0, listeners_1.emitEvent)(receiver.emitter, event, movedForward));",
    ],
    [
      "pipeline/keep-images.js",
      "        return (0, listeners_1.emitEvent)(receiver.emitter, event, movedForward, receiver.telemetry?.callListener);",
      "        return (0, listeners_1.emitEvent)(receiver.emitter, event, movedForward);",
    ],
  ],
  // No generation store: nothing to order, nothing tracked; every delivery moves its generation forward.
  generations: [
    [
      "pipeline/dispatch.js",
      "    const { receiver } = delivery;\n    if (!receiver.options.generations && !receiver.openGenerations)\n        return emit(delivery, policy, settle, true, false);\n    return step(() => (0, track_1.trackGeneration)(delivery.receiver, delivery.event, delivery.key), (advance) => emit(delivery, policy, settle, advance.moved, advance.moved && advance.tracked !== undefined), (error) => trackingFailed(delivery, policy, settle, error));",
      "    return emit(delivery, policy, settle, true, false);",
    ],
    [
      "pipeline/dispatch.js",
      "        const emitting = tracked\n            ? { movedForward, retryTransient, recordTracked: () => (0, track_1.recordTracked)(delivery.receiver, delivery.event) }\n            : { movedForward, retryTransient };",
      "        const emitting = { movedForward, retryTransient };",
    ],
    [
      "pipeline/keep-images.js",
      "        const recording = recordTracked && record(recordTracked);\n        if (recording)\n            return recording.then(() => (0, listeners_1.emitEvent)(receiver.emitter, event, movedForward, receiver.telemetry?.callListener));\n",
      "",
    ],
  ],
  keepImages: [
    ["pipeline/keep-images.js", "    const keeper = receiver.options.keepImages;\n", ""],
    ["pipeline/keep-images.js", "    if (!keeper || !movedForward || event.generation.images.length === 0) {", "    {"],
  ],
  inbox: [
    [
      "pipeline/receive.js",
      "    const { inbox } = delivery.receiver.options;\n    return inbox ? (0, store_in_inbox_1.storeInInbox)(delivery, inbox) : (0, handle_in_process_1.handleInProcess)(delivery);",
      "    return (0, handle_in_process_1.handleInProcess)(delivery);",
    ],
  ],
};

// Each build drives itself from a file of its own, so that no driving code shares type feedback between builds.
const DRIVER = `"use strict";
const { createWebhooks } = require("./index.js");
module.exports = (options) => {
  const webhooks = createWebhooks(options);
  let heard = 0;
  webhooks.on("crazyhorse.done", () => void heard++);
  return {
    async run(inputs, from, to) {
      for (let i = from; i < to; i++) {
        const answer = await webhooks.receive(inputs[i]);
        if (answer.status !== 200) throw new Error("answered " + answer.status + ": " + answer.body);
      }
      return heard;
    },
    close: () => webhooks.close(),
  };
};
`;

function patch(dir, edits) {
  for (const [file, from, to] of edits) {
    const path = join(dir, file);
    const text = readFileSync(path, "utf8");
    const at = text.indexOf(from);
    if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`${file}: the text to patch is not there exactly once:\n${from}`);
    writeFileSync(path, text.slice(0, at) + to + text.slice(at + from.length));
  }
}

const built = buildScratch(flags.dist);
const variants = [
  ["as built", []],
  ["control", []],
  // --against DIR: another build (say, the tree before a change), unpatched, measured beside this one.
  ...(flags.against ? [["against", [], resolve(flags.against)]] : []),
  ...Object.entries(FEATURES).map(([name, edits]) => [`${name} absent`, edits]),
  // The generations' edit removes the line of telemetry's that calls emitEvent after recording.
  [
    "all four absent",
    [
      ...FEATURES.generations,
      ...FEATURES.telemetry.filter(([, from]) => !from.includes("recording.then")),
      ...FEATURES.keepImages,
      ...FEATURES.inbox,
    ],
  ],
];
const load = createRequire(import.meta.url);
const options = { providers: { crazyhorse: { secret: TOKEN } }, generations: false };
const COPIES = Number(flags.copies);
// --aa: every variant left unpatched, to see how far identical builds measure apart.
// Loaded round-robin, a copy of each variant then another, after a first instance that is warmed up
// and never measured: the first module instance loaded measured a few percent slower than identical
// ones loaded after it.
const copies = [
  ["first", []],
  ...Array.from({ length: COPIES }, () => variants.map(([name, edits, source]) => [name, flags.aa ? [] : edits, source])).flat(),
];
const dirs = copies.map((_, i) => `${built}-features-off-${i}`);
process.on("exit", () => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const builds = copies.map(([name, edits, source = built], i) => {
  const dir = dirs[i];
  rmSync(dir, { recursive: true, force: true });
  cpSync(source, dir, { recursive: true });
  patch(dir, edits);
  writeFileSync(join(dir, "bench-driver.js"), DRIVER);
  return { name, driver: load(join(dir, "bench-driver.js"))(options), cpu: [], wall: [] };
});
const [first] = builds.splice(0, 1);

const { head, tail, bytes } = crazyhorseTemplate(Number(flags.size));
const headers = { "content-type": "application/json", "x-webhook-token": TOKEN };
const inputsOfRound = () =>
  Array.from({ length: DELIVERIES }, () => ({ provider: "crazyhorse", headers, rawBody: head + uniqueCode() + tail, query: "" }));

/**
 * One round: every build takes the same deliveries, BATCH at a time, the builds in a new shuffled
 * order for each batch. Interleaved this finely, the builds share the machine's load alike, and a
 * collection falls in a batch about as often as that batch's build allocates.
 */
async function round(builds, inputs) {
  const cpu = new Map(builds.map((build) => [build, 0]));
  const wall = new Map(builds.map((build) => [build, 0n]));
  for (let from = 0; from < inputs.length; from += BATCH) {
    const to = Math.min(inputs.length, from + BATCH);
    for (const build of [...builds].sort(() => Math.random() - 0.5)) {
      const startCpu = process.cpuUsage();
      const startWall = process.hrtime.bigint();
      await build.driver.run(inputs, from, to);
      const used = process.cpuUsage(startCpu);
      wall.set(build, wall.get(build) + process.hrtime.bigint() - startWall);
      cpu.set(build, cpu.get(build) + used.user + used.system);
    }
  }
  return builds.map((build) => ({ build, cpu: cpu.get(build) / inputs.length, wall: Number(wall.get(build)) / 1e3 / inputs.length }));
}

// Warm-up: every build through its optimizing compiler before anything counts.
for (let w = 0; w < 3; w++) await round([first, ...builds], inputsOfRound());
for (let r = 0; r < ROUNDS; r++) {
  gc();
  for (const { build, cpu, wall } of await round(builds, inputsOfRound())) {
    build.cpu.push(cpu);
    build.wall.push(wall);
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
// Per round, a variant's figure is the mean over its copies: each copy (a module instance of its
// own) keeps the offset its JIT settled on for as long as it lives, which more copies average out.
const groups = variants.map(([name]) => {
  const members = builds.filter((build) => build.name === name);
  const perRound = (key) => members[0][key].map((_, r) => members.reduce((sum, m) => sum + m[key][r], 0) / members.length);
  return { name, cpu: perRound("cpu"), wall: perRound("wall"), copies: members.map((m) => median(m.cpu)) };
});
const [base] = groups;
console.log(
  `\n${bytes}-byte crazyhorse deliveries through receive(), ${DELIVERIES} a round, ${ROUNDS} rounds, ${COPIES} cop${COPIES === 1 ? "y" : "ies"} of each build${flags.aa ? ", none patched (--aa)" : ""}; options: no SDK, generations: false, no keepImages, no inbox`,
);
console.log(
  "as built's CPU per delivery over the variant's (above 1: the feature's code costs that much while off); the median of the per-round ratios, the middle half and the extremes",
);
console.log(
  "| build | CPU µs/delivery | wall µs/delivery | each copy's CPU µs | CPU ratio, all rounds | median round | middle half | lowest-highest |",
);
console.log("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
const sum = (xs) => xs.reduce((a, b) => a + b, 0);
for (const group of groups) {
  const ratios = group.cpu.map((cpu, r) => base.cpu[r] / cpu);
  const cells =
    group === base
      ? ["", "", "", ""]
      : [
          (sum(base.cpu) / sum(group.cpu)).toFixed(3),
          median(ratios).toFixed(3),
          `${quantile(ratios, 0.25).toFixed(3)}-${quantile(ratios, 0.75).toFixed(3)}`,
          `${Math.min(...ratios).toFixed(3)}-${Math.max(...ratios).toFixed(3)}`,
        ];
  const each = group.copies.map((c) => c.toFixed(1)).join(" ");
  console.log(`| ${group.name} | ${median(group.cpu).toFixed(2)} | ${median(group.wall).toFixed(2)} | ${each} | ${cells.join(" | ")} |`);
}
for (const build of [first, ...builds]) await build.driver.close();
