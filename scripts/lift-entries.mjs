// What scripts/build.mjs (and bench/build.mjs) run on tsc's output before anything reads it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * lib/entries/ holds what the package exposes (its entry points, the testing kit, what both main
 * entries share), and dist/ publishes it at its top, as package.json names it (dist/redis/index.js,
 * not dist/entries/redis/index.js): each emitted file of dist/entries/ moves up one folder, and every
 * relative specifier in dist/ (require, import, export from, import() in declarations) that names a
 * moved file, or is written from one, is re-pointed (and a moved source map's sources).
 */
export function liftEntries(dist) {
  const entries = join(dist, "entries");
  const lifted = (path) => (path === entries || path.startsWith(entries + sep) ? join(dist, relative(entries, path)) : path);
  const files = (folder) =>
    readdirSync(folder, { withFileTypes: true }).flatMap((item) =>
      item.isDirectory() ? files(join(folder, item.name)) : [join(folder, item.name)],
    );
  const specifier = /(\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bdeclare module\s*)(["'])(\.{1,2}\/[^"']*)\2/g;
  for (const file of files(dist)) {
    const target = lifted(file);
    const before = readFileSync(file, "utf8");
    const repoint = (path) => {
      const next = relative(dirname(target), lifted(resolve(dirname(file), path)))
        .split(sep)
        .join("/");
      return next.startsWith(".") ? next : `./${next}`;
    };
    const text = file.endsWith(".map")
      ? JSON.stringify({ ...JSON.parse(before), sources: JSON.parse(before).sources.map(repoint) })
      : before.replace(specifier, (all, head, quote, path) =>
          target === file && lifted(resolve(dirname(file), path)) === resolve(dirname(file), path)
            ? all
            : `${head}${quote}${repoint(path)}${quote}`,
        );
    if (target === file && text === before) continue;
    if (target !== file && existsSync(target)) throw new Error(`${file} would overwrite ${target}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    if (target !== file) rmSync(file);
  }
  rmSync(entries, { recursive: true });
}
