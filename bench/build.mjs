// Compiles the package's source into a scratch directory for the benchmarks, so that a bench run
// measures the working tree without rebuilding the shared dist/ (which tests and others use).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { liftEntries } from "../scripts/lift-entries.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** Returns a directory holding index.js (CommonJS). `dist` given: use it as it is. */
export function buildScratch(dist) {
  if (dist) return resolve(dist);
  // Under node_modules/ so that the built code resolves its dependencies (and tsc its types) from
  // this checkout; one directory per run, removed when the run ends.
  const outDir = join(root, "node_modules", ".cache", `imagegen-webhooks-bench-${process.pid}`);
  mkdirSync(outDir, { recursive: true });
  process.on("exit", () => rmSync(outDir, { recursive: true, force: true }));
  // Only what lib/entries/index.ts and lib/entries/bullmq/index.ts reach: a half-written module elsewhere in lib/ does not stop the bench.
  const config = join(outDir, "tsconfig.json");
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(root, "tsconfig.build.json"),
      compilerOptions: { outDir, rootDir: join(root, "lib"), declaration: false, sourceMap: true },
      files: [join(root, "lib/entries/index.ts"), join(root, "lib/entries/bullmq/index.ts")],
      include: [],
    }),
  );
  try {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", config], { stdio: "inherit" });
  } catch (err) {
    if (!existsSync(join(outDir, "entries", "index.js"))) throw err;
    console.warn("bench: tsc reported errors (see above); benchmarking what it emitted");
  }
  liftEntries(outDir);
  return outDir;
}
