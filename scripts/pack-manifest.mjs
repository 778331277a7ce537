// The package.json that `npm pack` and `npm publish` put in the tarball, without `scripts`: they
// name this folder (scripts/build.mjs, scripts/prepare.mjs), which the tarball does not hold, and a
// user's install needs none of them. `prepack` strips them (after the build), `postpack` puts the
// file back byte for byte; npm packs the package.json on disk between the two.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const manifest = join(root, "package.json");
const kept = join(root, ".package.json.unpacked");

if (process.argv[2] === "strip") {
  const text = readFileSync(manifest, "utf8");
  writeFileSync(kept, text);
  const { scripts: _scripts, ...packed } = JSON.parse(text);
  writeFileSync(manifest, `${JSON.stringify(packed, null, 2)}\n`);
} else if (process.argv[2] === "restore") {
  renameSync(kept, manifest);
} else {
  throw new Error("usage: node scripts/pack-manifest.mjs strip|restore");
}
