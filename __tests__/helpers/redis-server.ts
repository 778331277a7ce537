// Throwaway redis-server processes on free loopback ports, for the Redis store's tests and its
// benchmark. The suite's shared server comes from REDIS_URL (set by .ci/run, or by the jest
// globalSetup when a developer has redis-server on PATH); a test that must stop and restart Redis
// starts one of its own here.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const INSTALL_HINT =
  "The Redis store's tests need a Redis. Either set REDIS_URL (e.g. REDIS_URL=redis://127.0.0.1:6379), " +
  "or put redis-server on PATH (Debian/Ubuntu: apt-get install -y redis-server) and the tests start a throwaway one themselves.";

/** Set by the globalSetup when it could neither read REDIS_URL nor start a server: the reason, for the tests to fail with. */
export const MISSING_REDIS_ENV = "IMAGEGEN_WEBHOOKS_REDIS_MISSING";

/** The suite's Redis, or a failure that says how to get one: these tests never skip. */
export function suiteRedisUrl(): string {
  const url = process.env.REDIS_URL;
  if (url) return url;
  throw new Error(process.env[MISSING_REDIS_ENV] ?? INSTALL_HINT);
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RedisServerOptions {
  /** Keep every write on disk (AOF, fsync always), so that a SIGKILL loses nothing: a restart finds the keys. */
  persistent?: boolean;
  /** Reuse a port (to restart a server where its clients reconnect); default a free one. */
  port?: number;
  /** Reuse a data directory (to restart with the same data). */
  dir?: string;
  /** More redis-server arguments (a cluster node's `--cluster-enabled yes`, …). */
  args?: string[];
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the process (SIGKILL: as abrupt as a crash) and waits for it to be gone; the data directory stays. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open and nothing is answered, as a Redis that hangs. */
  pause(): void;
  /** Lets a paused process go on (SIGCONT). */
  resume(): void;
  /** Kills it and removes its data directory. */
  stop(): Promise<void>;
  /** The process is running (not killed, not exited). */
  alive(): boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freeLoopbackPort());
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "imagegen-webhooks-redis-"));
  const persistence = options.persistent
    ? ["--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    : ["--appendonly", "no", "--save", ""];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--logfile", "", ...persistence, ...(options.args ?? [])];

  let child: ChildProcess = await launch(args, port);
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    async restart() {
      await kill();
      child = await launch(args, port);
    },
    pause: () => void child.kill("SIGSTOP"),
    alive: () => child.exitCode === null && child.signalCode === null,
    resume: () => void child.kill("SIGCONT"),
    async stop() {
      // A paused process ignores nothing but SIGKILL; CONT first so that it dies at once.
      child.kill("SIGCONT");
      await kill();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000)));
  const failed = new Promise<never>((_, reject) => {
    child.once("error", (err: NodeJS.ErrnoException) => {
      reject(err.code === "ENOENT" ? new Error(`redis-server is not on PATH. ${INSTALL_HINT}`) : err);
    });
    child.once("exit", (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
  failed.catch(() => {});
  // Bounded: 100 tries, 50 ms apart.
  for (let i = 0; i < 100; i++) {
    const ready = await Promise.race([ping(port), failed]);
    if (ready) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`redis-server did not answer PING on port ${port} within 5 s:\n${output}`);
}

/** One PING over a raw socket, so that this helper needs no client. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}
