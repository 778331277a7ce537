/**
 * `npm install` in a clone prints no engine warning on the Node versions the README supports
 * ("Node 20 or later"): every package the lockfile installs, dev dependencies included, accepts
 * a current release of each of those majors in its `engines.node`. Nor the install-scripts advisory
 * (npm 11.16 on; npm 12 skips the scripts it names, and Bun, Deno, workerd and esbuild would then
 * be installed without their binaries): each package with an install script is named in
 * `allowScripts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";

const root = join(__dirname, "..");
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { engines?: Record<string, string> | string[]; optional?: boolean; hasInstallScript?: boolean }>;
};
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  engines: { node: string };
  allowScripts?: Record<string, boolean>;
};

// A current release of each supported major (20.19: the 20.x line's tools, ESLint's among them, ask for).
const supported = ["20.19.0", "22.13.0", "24.0.0"];

test("the package's own engines field is the README's Node 20 or later", () => {
  expect(pkg.engines.node).toBe(">=20");
});

test.each(supported)("every package the lockfile installs accepts Node %s (no EBADENGINE warning)", (version) => {
  const refused = Object.entries(lock.packages)
    .filter(([path]) => path !== "")
    .flatMap(([path, entry]) => {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return range && !semver.satisfies(version, range) ? [`${path} wants node ${range}`] : [];
    });
  expect(refused).toEqual([]);
});

test("every package the lockfile installs with an install script is named in allowScripts, and allowScripts names no other", () => {
  const withScripts = new Set(
    Object.entries(lock.packages)
      .filter(([path, entry]) => path !== "" && entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length)),
  );
  expect(Object.keys(pkg.allowScripts ?? {}).sort()).toEqual([...withScripts].sort());
  expect(Object.values(pkg.allowScripts ?? {}).every((allowed) => allowed)).toBe(true);
});
