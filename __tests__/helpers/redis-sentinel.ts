// A throwaway Redis Sentinel watching a primary, for the inbox's Sentinel test: redis-server in
// sentinel mode (the same binary, `--sentinel`), with its own config file, which Sentinel rewrites
// as it learns the replicas and runs failovers.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freeLoopbackPort } from "./redis-server";

export interface RedisSentinel {
  readonly port: number;
  /** The name the primary is monitored under (ioredis's `name`). */
  readonly name: string;
  /** The address Sentinel gives for the primary now. */
  primary(): Promise<{ host: string; port: number }>;
  /** Asks Sentinel for a failover now (SENTINEL FAILOVER: no agreement needed, the primary need not be down). */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisSentinel(primaryPort: number, name = "imagegen"): Promise<RedisSentinel> {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), "imagegen-webhooks-sentinel-"));
  const config = join(dir, "sentinel.conf");
  writeFileSync(
    config,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 1`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn("redis-server", [config, "--sentinel"], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // Commands wait in ioredis's offline queue until Sentinel listens.
  const admin = new Redis({ host: "127.0.0.1", port, retryStrategy: () => 50, maxRetriesPerRequest: null });
  const primary = async () => {
    const [host, primaryPortNow] = (await admin.call("SENTINEL", "get-master-addr-by-name", name)) as [string, string];
    return { host, port: Number(primaryPortNow) };
  };
  const stop = async () => {
    admin.disconnect();
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready once it knows the primary and has found its replica (INFO replication of the primary, every few seconds).
  for (let i = 0; ; i++) {
    const replicas = (await admin.call("SENTINEL", "replicas", name)) as unknown[];
    if (replicas.length > 0) break;
    if (i > 200) {
      await stop();
      throw new Error("Sentinel found no replica within 20 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    port,
    name,
    primary,
    async failover() {
      await admin.call("SENTINEL", "failover", name);
    },
    stop,
  };
}
