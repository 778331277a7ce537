// npm's `prepare`: builds dist/ where npm installs this package from its source, a git dependency
// (`npm install github:…`) above all, which would otherwise ship no code. `npm pack` and `npm
// publish` run `prepack` (which builds) and then `prepare`: the second build is skipped there.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

if (!["pack", "publish"].includes(process.env.npm_command ?? "")) {
  execFileSync(process.execPath, [fileURLToPath(new URL("build.mjs", import.meta.url))], { stdio: "inherit" });
}
