// Servers in processes of their own, for the tests that kill them (SIGKILL) or run several at once:
// start one from a script that prints {"port":…} once ready, and POST to it over keep-alive sockets.
import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request } from "node:http";
import { join } from "node:path";

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServerProcess {
  port: number;
  child: ChildProcess;
  /** Everything it wrote to stderr so far (the last 8 KB). */
  stderr(): string;
}

/** Starts `script` (a path under __tests__/helpers) with tsx and waits for the port it prints. */
export function startProcess(script: string, env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", join(__dirname, script)], {
    cwd: join(__dirname, "..", ".."),
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-8000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 30 s:\n${stderr}`)), 30_000);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split("\n").find((l) => l.startsWith("{"));
      if (!line) return;
      clearTimeout(timer);
      resolve({ port: (JSON.parse(line) as { port: number }).port, child, stderr: () => stderr });
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it was ready:\n${stderr}`));
    });
  });
}

/** Kills it as abruptly as a crash, and waits until it is gone. */
export async function killHard(server: ServerProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await gone;
}

/** POSTs a JSON body; resolves the status. */
export function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.once("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.once("error", reject);
    req.end(body);
  });
}

/** GETs a JSON document. */
export function getJson<T>(port: number, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    request({ agent, host: "127.0.0.1", port, path }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => void (text += chunk.toString()));
      res.once("end", () => resolve(JSON.parse(text) as T));
    })
      .once("error", reject)
      .end();
  });
}

/** What a sender that retries until it gets a 2xx saw. */
export interface Tally {
  /** Every answer, retried ones included, by status (0: the connection failed). */
  statuses: Map<number, number>;
  /** Deliveries whose copies were all answered 2xx in the end. */
  delivered: number;
}

/**
 * Sends each body to every port at once, 32 deliveries at a time, as a sender that retries until it
 * gets a 2xx would (503, 409, 500 and refused connections are retried); `onDelivered` sees the
 * running count.
 */
export async function sendToAll(
  ports: number[],
  path: string,
  bodies: string[],
  onDelivered: (count: number) => void = () => {},
): Promise<Tally> {
  const tally: Tally = { statuses: new Map(), delivered: 0 };
  const sendCopy = async (port: number, body: string): Promise<void> => {
    // Bounded: 300 tries 20 to 50 ms apart is well past the outages these tests make.
    for (let attempt = 0; attempt < 300; attempt++) {
      const status = await post(port, path, body).catch(() => 0);
      tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
      if (status === 200 || status === 202) return;
      await sleep(20 + Math.random() * 30);
    }
    throw new Error(`a delivery was never answered 2xx on port ${port}`);
  };
  let next = 0;
  const sender = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await Promise.all(ports.map((port) => sendCopy(port, body)));
      onDelivered(++tally.delivered);
    }
  };
  await Promise.all(Array.from({ length: 32 }, sender));
  return tally;
}
