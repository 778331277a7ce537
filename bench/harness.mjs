// What the benchmark runners share: servers forked from bench/server.mjs, questions asked of them
// over IPC, medians, and a repeatable shuffle.
import { fork } from "node:child_process";
import { join } from "node:path";
import { root } from "./build.mjs";

export const BUN_KINDS = new Set(["bun-json", "ours-bun"]);

/** Forks bench/server.mjs for `config` ({ kind, listeners, dist? }) and resolves once it listens. */
export function start(config, dist, env = {}) {
  // The Bun servers (bun-json, ours-bun) run on Bun, from the Bun that this checkout installs.
  const onBun = BUN_KINDS.has(config.kind);
  const script = onBun ? "bench/bun-server.mjs" : "bench/server.mjs";
  const child = fork(join(root, script), [config.kind, String(config.listeners), config.dist ?? dist], {
    ...(onBun ? { execPath: join(root, "node_modules/.bin/bun"), execArgv: [] } : { execArgv: ["--expose-gc"] }),
    env: { ...process.env, ...env },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`${config.kind} exited with ${code} before listening`)));
    child.once("message", ({ port }) => {
      child.removeAllListeners("exit");
      resolve({ ...config, child, url: `http://127.0.0.1:${port}` });
    });
  });
}

/** Asks a forked process for its `stats` (or its `cpu`) and resolves its answer. */
export function ask(child, what = "stats") {
  return new Promise((resolve) => {
    child.once("message", resolve);
    child.send(what);
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A fixed-seed shuffle (mulberry32), so that a run's orders can be repeated. */
let seed = 0x5eed;
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
}
export function shuffled(items) {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
