// The example app as `npm start` runs it, in a process of its own: for the tests that run several
// on one Redis, or kill one. (A helper of its own: the unit tests' helpers start no process.)
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DemoServerProcess {
  /** The port it listens on, on loopback. */
  port: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** SIGTERM, and waits for it to exit. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: it closes nothing. Waits for it to be gone. */
  kill(): Promise<void>;
}

/** Runs `npm start`'s script (example-app/server.ts with tsx) on a free port; resolves once it has printed its start-up lines. */
export async function startDemoServer(env: NodeJS.ProcessEnv): Promise<DemoServerProcess> {
  const root = join(__dirname, "..", "..");
  // tsx as a loader in one node process, not tsx's command (which runs the server in a child of its
  // own): a SIGKILL must reach the server itself, as `kill -9` does to a server's process.
  const child = spawn(process.execPath, ["--import", "tsx", "example-app/server.ts"], {
    cwd: root,
    // Its kept images in a directory of the test's, not in example-app/.kept/.
    env: { ...env, PORT: "0", KEPT_IMAGES_DIR: mkdtempSync(join(tmpdir(), "demo-npm-start-")) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  try {
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the example app did not start:\n${output}`)), 60_000);
      child.stdout.on("data", () => {
        // Started once it has printed everything, down to its last line (the mode).
        const match = /listening on http:\/\/localhost:(\d+)[\s\S]*\n {2}mode: [^\n]*\n/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      });
      child.on("exit", (code) => reject(new Error(`the example app exited with ${code}:\n${output}`)));
    });
    return { port, output: () => output, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
  } catch (err) {
    await end("SIGTERM");
    throw err;
  }
}
