// A runtime's binary (installed from npm as a dev dependency) serving a bundled receiver: started,
// awaited until it prints `listening <port>`, and stopped. A binary that is missing or fails fails the
// test with the reason: these tests never pass by not running.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RuntimeServer {
  url: string;
  stop(): Promise<void>;
}

/** The binary an npm package put in node_modules/.bin, or an error that says what is missing. */
export function runtimeBinary(name: string): string {
  const bin = join(__dirname, "..", "..", "node_modules", ".bin", name);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: the "${name}" dev dependency did not install (npm ci installs it)`);
  return bin;
}

export function startRuntime(binary: string, args: (script: string) => string[], code: string): Promise<RuntimeServer> {
  const dir = mkdtempSync(join(tmpdir(), "imagegen-webhooks-runtime-"));
  const script = join(dir, "server.mjs");
  writeFileSync(script, code);
  const child: ChildProcess = spawn(binary, args(script), {
    cwd: dir,
    env: { ...process.env, DENO_DIR: join(dir, "deno"), NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`${binary} ${why}:\n${output}`)));
    };
    const timer = setTimeout(() => fail("did not print its port within 20 s"), 20_000);
    child.once("error", (err) => fail(`did not start (${err.message})`));
    child.once("exit", (exitCode) => fail(`exited (${exitCode}) before it listened`));
    child.stderr?.on("data", (chunk: Buffer) => void (output += chunk.toString()));
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = /listening (\d+)/.exec(output)?.[1];
      if (!port) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ url: `http://127.0.0.1:${port}`, stop });
    });
  });
}
