/**
 * Bundles a runtime's server (fixtures/receiver.ts and a few lines of the runtime's own) with
 * esbuild: for the web entry, for the browser platform, where any `node:` import, or a Node
 * built-in without a browser replacement, fails the build.
 */
import { build, type Metafile } from "esbuild";
import { join } from "node:path";

const root = join(__dirname, "..", "..");
const ENTRIES = { main: join(root, "lib", "entries", "index.ts"), web: join(root, "lib", "entries", "web", "index.ts") };

export interface Bundle {
  code: string;
  /** Every module the bundle holds, by path. */
  inputs: string[];
}

export async function bundle(
  entry: keyof typeof ENTRIES,
  serverCode: string,
  platform = entry === "web" ? "browser" : "node",
): Promise<Bundle> {
  const result = await build({
    stdin: { contents: serverCode, resolveDir: join(__dirname, "fixtures"), loader: "ts", sourcefile: "server.ts" },
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    target: "es2022",
    platform: platform as "browser" | "node",
    // The conditions a bundler for Workers or a browser resolves.
    ...(platform === "browser" && { conditions: ["worker", "browser"] }),
    alias: { "imagegen-webhooks": ENTRIES[entry] },
    logLevel: "silent",
  });
  const metafile: Metafile = result.metafile;
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(metafile.inputs) };
}
