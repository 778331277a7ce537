import { execFile } from "node:child_process";
import { createHash, createPublicKey, generateKeyPairSync, randomUUID, verify } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { allImagesSchema, createWebhooks, crazyhorseSchema, type AnyWebhookEvent, type Generation, type Webhooks } from "imagegen-webhooks";
import { bullmqInbox } from "imagegen-webhooks/bullmq";
import { crazyhorseDelivery, playJob, signDelivery, simulateJob, type SimulatedJob } from "imagegen-webhooks/testing";
import { Redis } from "ioredis";
import { calculateJwkThumbprint, type JWK } from "jose";
import { main } from "../lib/cli/index";
import { pixelforge } from "./fixtures/pixelforge-provider";
import { freeLoopbackPort, suiteRedisUrl } from "./helpers/redis-server";

const root = join(__dirname, "..");
/** The user's own providers, for --custom-providers: pixelforge with every testing hook, sketchpad with no simulation, bareforge with none. */
const CUSTOM = ["--custom-providers", "__tests__/fixtures/pixelforge-provider.ts"];
/** Replicate signs its deliveries: the receivers here check them with this secret. */
const SIGNING_SECRET = `whsec_${Buffer.from("cli test replicate signing key").toString("base64")}`;
// Each CLI run is a node process that loads tsx: about a second.
jest.setTimeout(60_000);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it, from its TypeScript source; async, so that the receiver in this process keeps serving. */
function cli(args: string[], entry = ["--import", "tsx", "lib/cli/index.ts"]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...entry, ...args], { cwd: root, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** What the receiver saw of an event: the built-in providers' and the user's pixelforge's alike. */
type Seen = { name: string; provider: string; payload: unknown; generation: Generation<string> };

interface Receiver {
  url: string;
  webhooks: Webhooks;
  events: Seen[];
  duplicates: Seen[];
  close(): Promise<void>;
}

/** A real receiver on a loopback port, recording what it emits. */
async function receiver(): Promise<Receiver> {
  const webhooks = createWebhooks({
    customProviders: [pixelforge],
    providers: {
      crazyhorse: { secret: "ch" },
      "all-images": { secret: "ai" },
      replicate: { signature: { secret: SIGNING_SECRET } },
      pixelforge: { secret: "pf" },
    },
  });
  const events: Seen[] = [];
  const duplicates: Seen[] = [];
  webhooks.on("*", (event) => void events.push(event));
  webhooks.on("duplicate", (event) => void duplicates.push(event));
  const server: Server = createServer(webhooks.middleware());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    webhooks,
    events,
    duplicates,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Every delivery of a job, through the real pipeline with no HTTP: what each answered and emitted. */
async function receiveAll(job: SimulatedJob) {
  const webhooks = createWebhooks({
    providers: { crazyhorse: { secret: "s" }, "all-images": { secret: "s" }, replicate: { signature: { secret: SIGNING_SECRET } } },
  });
  const emitted: AnyWebhookEvent[] = [];
  let duplicates = 0;
  webhooks.on("*", (event) => void emitted.push(event));
  webhooks.on("duplicate", () => void duplicates++);
  const statuses: number[] = [];
  for (const { body, webhookId } of job.deliveries) {
    const rawBody = JSON.stringify(body);
    const signature = webhookId === undefined ? {} : signDelivery(rawBody, { secret: SIGNING_SECRET, id: webhookId });
    const answer = await webhooks.receive({
      provider: job.provider,
      headers: { "content-type": "application/json", "x-webhook-token": "s", ...signature },
      rawBody,
    });
    statuses.push(answer.status);
  }
  return { statuses, emitted, duplicates };
}

describe("simulateJob, the job simulator the CLI and the demo share", () => {
  const seeds = Array.from({ length: 40 }, (_, i) => i + 1);

  test.each(["crazyhorse", "all-images", "replicate"] as const)(
    "every %s job it makes is accepted by the real pipeline, in the documented order",
    async (provider) => {
      for (const seed of seeds) {
        const job = simulateJob(provider, { seed });
        const { statuses, emitted, duplicates } = await receiveAll(job);
        expect(statuses.every((status) => status === 200)).toBe(true);
        const retries = job.deliveries.filter((d) => d.retry).length;
        expect(duplicates).toBe(retries);
        expect(emitted).toHaveLength(job.deliveries.length - retries);
        const order = emitted.map((e) => e.generation.status);
        const last = job.outcome;
        if (provider === "crazyhorse") expect(order).toEqual(["queued", "processing", last]);
        else if (provider === "replicate") {
          // Replicate sends the prediction again, still processing, each time its output grows.
          expect(order.slice(0, 2)).toEqual(["queued", "processing"]);
          expect(order.at(-1)).toBe(last);
          expect(new Set(order.slice(2, -1))).toEqual(new Set(order.length > 3 ? ["processing"] : []));
        } else {
          expect(order.slice(0, 2)).toEqual(["queued", "processing"]);
          expect(order.at(-1)).toBe(last);
          expect(new Set(order.slice(2, -1))).toEqual(new Set(order.length > 3 ? ["progress"] : []));
        }
        const final = emitted.at(-1) as AnyWebhookEvent;
        expect(final.generation.id).toBe(job.id);
        if (last === "completed") expect(final.generation.images).toHaveLength(4);
        else expect(final.generation.images.length).toBeLessThan(4);
      }
    },
  );

  test("all-images reports one print.progress per image, each with the images so far at absolute URLs", () => {
    const job = simulateJob("all-images", {
      seed: 3,
      outcome: "completed",
      retry: false,
      images: 3,
      imageBaseUrl: "http://demo.test/storage/",
    });
    expect(job.deliveries.map((d) => d.event)).toEqual([
      "print.created",
      "print.active",
      "print.progress",
      "print.progress",
      "print.progress",
      "print.completed",
    ]);
    const counts = job.deliveries.map((d) => (d.body as { data: { images: unknown[] } }).data.images.length);
    expect(counts).toEqual([0, 0, 1, 2, 3, 3]);
    expect(job.images.map((image) => image.path)).toEqual([1, 2, 3].map((n) => `${job.id}/img_${n}.png`));
    const completed = job.deliveries.at(-1)?.body as { data: { images: { url: string }[] } };
    expect(completed.data.images.map((image) => image.url)).toEqual(job.images.map((image) => `http://demo.test/storage/${image.path}`));
  });

  test("Replicate sends its prediction with the output so far at absolute URLs, each delivery under a webhook-id of its own; a failed one has no output", () => {
    const job = simulateJob("replicate", {
      seed: 4,
      outcome: "completed",
      retry: false,
      images: 2,
      imageBaseUrl: "http://demo.test/storage/",
    });
    expect(job.deliveries.map((d) => d.event)).toEqual(["starting", "processing", "processing", "processing", "succeeded"]);
    const outputs = job.deliveries.map((d) => (d.body as { output: string[] | null }).output);
    expect(outputs.map((output) => output?.length ?? 0)).toEqual([0, 0, 1, 2, 2]);
    expect(outputs.at(-1)).toEqual(job.images.map((image) => `http://demo.test/storage/${image.path}`));
    expect(job.deliveries.every((d) => (d.body as { id: string }).id === job.id)).toBe(true);
    expect(new Set(job.deliveries.map((d) => d.webhookId)).size).toBe(job.deliveries.length);
    const failed = simulateJob("replicate", { seed: 4, outcome: "failed" }).deliveries.at(-1)?.body as {
      status: string;
      output: unknown;
      error: unknown;
    };
    expect(failed).toMatchObject({ status: "failed", output: null, error: expect.any(String) });
    // A retry is the same message again: the same bytes under the same webhook-id.
    const retried = simulateJob("replicate", { seed: 4, retry: true });
    const at = retried.deliveries.findIndex((d) => d.retry);
    expect(retried.deliveries[at]?.webhookId).toBe(retried.deliveries[at - 1]?.webhookId);
  });

  test("crazyhorse sends its images as relative paths with DONE, and none with FAILED", () => {
    const done = simulateJob("crazyhorse", { seed: 5, outcome: "completed", retry: false, imageExtension: "svg" });
    const body = done.deliveries.at(-1)?.body as { state: string; generateImageUrls: string[]; params: { number: number } };
    expect(body.state).toBe("DONE");
    expect(body.generateImageUrls).toEqual(done.images.map((image) => image.path));
    expect(body.generateImageUrls[0]).toMatch(/^[0-9a-f]{32}\/[0-9a-f]{32}\/generate-1\.svg$/);
    expect(body.params.number).toBe(4);
    const failed = simulateJob("crazyhorse", { seed: 5, outcome: "failed" });
    expect(failed.deliveries.at(-1)?.body).not.toHaveProperty("generateImageUrls");
  });

  test("a retry is the same delivery again, right after it; a seed replays the same job, another seed another one", () => {
    const job = simulateJob("all-images", { seed: 11, retry: true });
    const at = job.deliveries.findIndex((d) => d.retry);
    expect(at).toBeGreaterThan(0);
    expect(job.deliveries[at]?.body).toEqual(job.deliveries[at - 1]?.body);
    const startAt = new Date("2026-01-01T00:00:00Z");
    expect(simulateJob("crazyhorse", { seed: 9, startAt })).toEqual(simulateJob("crazyhorse", { seed: 9, startAt }));
    expect(simulateJob("crazyhorse", { seed: 9 }).id).not.toBe(simulateJob("crazyhorse", { seed: 10 }).id);
  });

  test("left to chance, some jobs fail and some retry, most complete", () => {
    const jobs = seeds.map((seed) => simulateJob("all-images", { seed }));
    const failed = jobs.filter((job) => job.outcome === "failed").length;
    const retried = jobs.filter((job) => job.deliveries.some((d) => d.retry)).length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(jobs.length / 2);
    expect(retried).toBeGreaterThan(0);
    expect(retried).toBeLessThan(jobs.length);
  });

  test("refuses an image count it cannot make", () => {
    expect(() => simulateJob("all-images", { images: 0 })).toThrow(/1 to 16/);
  });

  test("playJob sends over HTTP at the job's pace, and stops at the first refusal", async () => {
    const server = await receiver();
    try {
      const job = simulateJob("crazyhorse", { seed: 1, outcome: "completed", retry: false });
      const refused = await playJob(job, { url: `${server.url}crazyhorse`, secret: "wrong", timeScale: 0 });
      expect(refused.map((p) => p.response.status)).toEqual([401]);
      const started = Date.now();
      const played = await playJob(job, { url: `${server.url}crazyhorse`, secret: "ch", timeScale: 0.1 });
      expect(played.map((p) => p.response.status)).toEqual([200, 200, 200]);
      const paced = job.deliveries.reduce((sum, d) => sum + d.delayMs, 0) * 0.1;
      expect(Date.now() - started).toBeGreaterThanOrEqual(paced - 5);
      expect(server.events.map((e) => e.name)).toEqual(["crazyhorse.waiting", "crazyhorse.processing", "crazyhorse.done"]);
    } finally {
      await server.close();
    }
  });
});

describe("the imagegen-webhooks CLI", () => {
  let server: Receiver;
  beforeEach(async () => {
    server = await receiver();
  });
  afterEach(async () => {
    await server.close();
  });

  test("--help lists the commands and exits 0; no command is a usage error, exit 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of [
      "send <provider> <event>",
      "simulate <provider>",
      "schema <provider>",
      "deliveries list|show|replay --redis <url>",
    ])
      expect(help.stdout).toContain(command);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("name a command: send, simulate, keys, schema or deliveries");
  });

  test("send posts one valid delivery with the token, and --set changes a field", async () => {
    const run = await cli([
      "send",
      "crazyhorse",
      "DONE",
      "--url",
      `${server.url}crazyhorse`,
      "--secret",
      "ch",
      "--set",
      "params.hair=blue",
      "--set",
      "params.number=2",
    ]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("200 success");
    expect(server.events).toHaveLength(1);
    const [event] = server.events as [Seen];
    expect(event.name).toBe("crazyhorse.done");
    expect(event.generation.params).toMatchObject({ hair: "blue", number: 2 });
  });

  test("send all-images with the token in the query", async () => {
    const run = await cli([
      "send",
      "all-images",
      "print.progress",
      "--url",
      `${server.url}all-images`,
      "--secret",
      "ai",
      "--token-in",
      "query",
      "--set",
      "data.prompt=a fox",
    ]);
    expect(run.code).toBe(0);
    expect(server.events.map((e) => [e.name, e.generation.prompt])).toEqual([["all-images.print.progress", "a fox"]]);
  });

  test("a refused delivery prints the answer and exits 1", async () => {
    const run = await cli(["send", "crazyhorse", "DONE", "--url", `${server.url}crazyhorse`, "--secret", "wrong"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(": 401 ");
    expect(server.events).toHaveLength(0);
  });

  test("mistakes in the command exit 2 with a message that says what to change", async () => {
    const cases: [string[], string][] = [
      [["send", "midjourney", "DONE", "--url", server.url, "--secret", "s"], 'unknown provider "midjourney"'],
      [["send", "crazyhorse", "DONE", "--secret", "s"], "--url is required"],
      [["send", "crazyhorse", "DONE", "--url", server.url], "--secret is required"],
      [["send", "crazyhorse", "DONE", "--url", "localhost:3000", "--secret", "s"], "--url must be http or https"],
      [["send", "crazyhorse", "--url", server.url, "--secret", "s"], "name the event"],
      [["send", "crazyhorse", "DONE", "--url", server.url, "--secret", "s", "--set", "hair"], "--set takes field=value"],
      [["simulate", "crazyhorse", "--speed", "fast"], '--speed takes a number of 0 or more, not "fast"'],
      [["deploy"], 'unknown command "deploy"'],
      [["send", "--urll", "x"], "unknown option --urll: the options are --url, --secret, --token-in, --signing-secret, --set, --any-event"],
      [
        ["send", "all-images", "print.complete", "--url", server.url, "--secret", "ai"],
        'unknown event "print.complete" for all-images: the events are print.created, print.active, print.progress, print.completed, print.failed',
      ],
      [
        ["send", "replicate", "succeded", "--dry-run"],
        'unknown event "succeded" for replicate: the events are starting, processing, succeeded',
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    cases.forEach(([args, message], i) => {
      const run = runs[i] as Run;
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 2, stderr: expect.stringContaining(message) });
    });
    expect(server.events).toHaveLength(0);
  });

  test("--any-event sends an event the provider does not list; a known one in another case passes as the provider spells it", async () => {
    const out = { write: () => true } as unknown as NodeJS.WritableStream;
    expect(
      await main(["send", "all-images", "print.refunded", "--any-event", "--url", `${server.url}all-images`, "--secret", "ai"], out),
    ).toBe(0);
    expect(await main(["send", "crazyhorse", "done", "--url", `${server.url}crazyhorse`, "--secret", "ch"], out)).toBe(0);
    expect(server.events.map((e) => [e.name, e.generation.status])).toEqual([
      ["all-images.print.refunded", "unknown"],
      ["crazyhorse.done", "completed"],
    ]);
  });

  test("a token sent to a signed provider's 401 hints at --signing-secret; with one, no hint", async () => {
    const printed = (chunks: string[]) => ({ write: (chunk: string) => void chunks.push(chunk) }) as unknown as NodeJS.WritableStream;
    const token: string[] = [];
    expect(await main(["send", "replicate", "succeeded", "--url", `${server.url}replicate`, "--secret", "x"], printed(token))).toBe(1);
    expect(token.join("")).toMatch(/: 401 [\s\S]*hint: replicate signs its deliveries[\s\S]*--signing-secret <whsec_\.\.\.>/);
    const wrong: string[] = [];
    const otherSecret = `whsec_${Buffer.from("another signing key, long enough").toString("base64")}`;
    expect(
      await main(["send", "replicate", "succeeded", "--url", `${server.url}replicate`, "--signing-secret", otherSecret], printed(wrong)),
    ).toBe(1);
    expect(wrong.join("")).toContain(": 401 ");
    expect(wrong.join("")).not.toContain("hint:");
  });

  test("a non-JSON answer (an HTML error page) prints its status and one line, not the page", async () => {
    const page = `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n<style>body { color: red }</style>\n</head>\n<body>\n<pre>Cannot POST /webhooks/crazyhors</pre>\n${"<p>padding</p>\n".repeat(200)}</body>\n</html>\n`;
    const html = createServer((_req, res) => void res.writeHead(404, { "content-type": "text/html; charset=utf-8" }).end(page));
    await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve));
    try {
      const chunks: string[] = [];
      const out = { write: (chunk: string) => void chunks.push(chunk) } as unknown as NodeJS.WritableStream;
      const url = `http://127.0.0.1:${(html.address() as AddressInfo).port}/webhooks/crazyhors`;
      expect(await main(["send", "crazyhorse", "DONE", "--url", url, "--secret", "ch"], out)).toBe(1);
      const printed = chunks.join("");
      expect(printed.split("\n").filter(Boolean)).toHaveLength(1);
      expect(printed).toMatch(/: 404 Cannot POST \/webhooks\/crazyhors padding padding .*…\n$/);
      expect(printed).not.toMatch(/<|DOCTYPE|color: red/);
    } finally {
      html.close();
    }
  });

  test.each([
    ["text/plain", "refused \u001b[31mred\u001b]0;owned\u0007\b\b\u009b2J\u202eevil"],
    ["application/problem+json", JSON.stringify({ title: "\u009b2J\u202eevil" })],
  ])("a receiver's %s answer is printed with its control characters escaped", async (type, body) => {
    const hostile = createServer((_req, res) => void res.writeHead(400, { "content-type": type }).end(body));
    await new Promise<void>((resolve) => hostile.listen(0, "127.0.0.1", resolve));
    try {
      const chunks: string[] = [];
      const out = { write: (chunk: string) => void chunks.push(chunk) } as unknown as NodeJS.WritableStream;
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/webhooks/crazyhorse`;
      expect(await main(["send", "crazyhorse", "DONE", "--url", url, "--secret", "ch"], out)).toBe(1);
      const printed = chunks.join("");
      expect(printed).toContain("\\u009b2J\\u202eevil");
      expect(printed.replace(/\n/g, "")).not.toMatch(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/u);
    } finally {
      hostile.close();
    }
  });

  test("a receiver that cannot be reached exits 1 and says so", async () => {
    const url = server.url;
    await server.close();
    const run = await cli(["send", "crazyhorse", "DONE", "--url", `${url}crazyhorse`, "--secret", "ch"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("could not deliver");
    expect(run.stderr).toContain("ECONNREFUSED");
    server = await receiver();
  });

  test("simulate plays a whole job, and the receiver dedupes its retry", async () => {
    const run = await cli([
      "simulate",
      "all-images",
      "--url",
      `${server.url}all-images`,
      "--secret",
      "ai",
      "--retry",
      "--speed",
      "0",
      "--seed",
      "7",
      "--image-base-url",
      "http://demo.test/storage/",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("(retry): 200");
    const names = server.events.map((e) => e.name);
    expect(names.slice(0, 2)).toEqual(["all-images.print.created", "all-images.print.active"]);
    expect(names.at(-1)).toMatch(/^all-images\.print\.(completed|failed)$/);
    expect(server.duplicates).toHaveLength(1);
    expect(new Set(server.events.map((e) => e.generation.id)).size).toBe(1);
    const images = server.events.flatMap((e) => e.generation.images.map((image) => image.url));
    expect(images.length).toBeGreaterThan(0);
    expect(images.every((url) => url.startsWith("http://demo.test/storage/"))).toBe(true);
  });

  test("simulate replicate signs every delivery, and the receiver checks each signature and dedupes the retry by its webhook-id", async () => {
    const before = server.events.length;
    const run = await cli([
      "simulate",
      "replicate",
      "--url",
      `${server.url}replicate`,
      "--signing-secret",
      SIGNING_SECRET,
      "--retry",
      "--speed",
      "0",
      "--seed",
      "3",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("(retry): 200");
    const names = server.events.slice(before).map((e) => e.name);
    expect(names[0]).toBe("replicate.starting");
    expect(names.at(-1)).toMatch(/^replicate\.(succeeded|failed)$/);
    expect(server.duplicates.some((e) => e.provider === "replicate")).toBe(true);
    // Unsigned, or signed with another secret, the receiver refuses the first delivery.
    const forged = await cli([
      "simulate",
      "replicate",
      "--url",
      `${server.url}replicate`,
      "--signing-secret",
      `whsec_${Buffer.from("another key, not the receiver's").toString("base64")}`,
      "--speed",
      "0",
    ]);
    expect(forged.code).toBe(1);
    expect(forged.stdout).toContain("stopped: the receiver refused starting with 401");
  });

  test("send replicate signs its one delivery with --signing-secret", async () => {
    const run = await cli(["send", "replicate", "succeeded", "--url", `${server.url}replicate`, "--signing-secret", SIGNING_SECRET]);
    expect(run.code).toBe(0);
    expect(server.events.at(-1)?.name).toBe("replicate.succeeded");
  });

  test("simulate with the wrong secret stops at the first refusal and exits 1", async () => {
    const run = await cli(["simulate", "crazyhorse", "--url", `${server.url}crazyhorse`, "--secret", "wrong", "--speed", "0"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("stopped: the receiver refused WAITING with 401");
  });

  test("schema prints each provider's JSON Schema", async () => {
    for (const [provider, schema] of [
      ["crazyhorse", crazyhorseSchema],
      ["all-images", allImagesSchema],
    ] as const) {
      const run = await cli(["schema", provider]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(schema);
    }
  });

  test("send and simulate a provider of the user's own, loaded with --custom-providers, through its testing hooks", async () => {
    const sent = await cli([
      "send",
      "pixelforge",
      "running",
      ...CUSTOM,
      "--url",
      `${server.url}pixelforge`,
      "--secret",
      "pf",
      "--set",
      "prompt=a castle",
    ]);
    expect(sent).toMatchObject({ code: 0, stderr: "" });
    expect(sent.stdout).toContain("pixelforge running: 200");
    expect(server.events.map((e) => [e.name, e.generation.status, e.generation.prompt])).toEqual([
      ["pixelforge.running", "processing", "a castle"],
    ]);

    const simulated = await cli([
      "simulate",
      "pixelforge",
      ...CUSTOM,
      "--url",
      `${server.url}pixelforge`,
      "--secret",
      "pf",
      "--retry",
      "--speed",
      "0",
      "--seed",
      "4",
    ]);
    expect(simulated).toMatchObject({ code: 0, stderr: "" });
    expect(simulated.stdout).toContain("(retry): 200");
    const job = server.events.slice(1);
    expect(job.map((e) => e.name).slice(0, 2)).toEqual(["pixelforge.queued", "pixelforge.running"]);
    expect(job.at(-1)?.name).toMatch(/^pixelforge\.(ready|broken)$/);
    expect(new Set(job.map((e) => e.generation.id)).size).toBe(1);
    expect(server.duplicates).toHaveLength(1);

    const schema = await cli(["schema", "pixelforge", ...CUSTOM]);
    expect(JSON.parse(schema.stdout)).toEqual(pixelforge.schema);
  });

  test("a provider of the user's own without the hooks a command needs: exit 2, naming what to add", async () => {
    const cases: [string[], string][] = [
      [
        ["send", "bareforge", "ready", "--dry-run"],
        'send: provider "bareforge" has no testing hooks: add `testing: { eventField, example }`',
      ],
      [
        ["simulate", "bareforge", "--dry-run"],
        'simulate: provider "bareforge" has no testing hooks: add `testing: { eventField, example, simulate }`',
      ],
      [["simulate", "sketchpad", "--dry-run"], 'simulate: provider "sketchpad" has no simulation: add `testing.simulate`'],
      [
        ["send", "pixelforge", "ready", "--dry-run"],
        'unknown provider "pixelforge": the providers are crazyhorse, all-images, replicate, leonardo, bfl, openai, fal, ideogram (for one of your own, --custom-providers',
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args[1] === "pixelforge" ? args : [...args, ...CUSTOM])));
    cases.forEach(([args, message], i) => {
      const run = runs[i] as Run;
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 2, stderr: expect.stringContaining(message) });
    });
    // With the hooks to build a delivery, sketchpad sends; its event field is set to the event given.
    const built = await cli(["send", "sketchpad", "broken", "--dry-run", ...CUSTOM]);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ state: "broken" });
  });

  test("--custom-providers: a module that cannot be loaded, or exports no provider, is a usage error", async () => {
    const missing = await cli(["schema", "x", "--custom-providers", "__tests__/fixtures/no-such-module.js"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--custom-providers __tests__/fixtures/no-such-module.js: cannot load it");
    const none = await cli(["schema", "x", "--custom-providers", "__tests__/helpers/deferred.ts"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("exports no provider: export what defineProvider() returns");
  });

  test("main() takes the user's providers from the program that runs it, as it would load them", async () => {
    const chunks: string[] = [];
    const out = { write: (chunk: string) => void chunks.push(chunk) } as unknown as NodeJS.WritableStream;
    expect(await main(["send", "pixelforge", "broken", "--dry-run"], out, { customProviders: [pixelforge] })).toBe(0);
    expect(JSON.parse(chunks.join(""))).toMatchObject({ state: "broken", job: expect.stringMatching(/^job_/) });
    await expect(main(["send", "pixelforge", "broken", "--dry-run"], out)).rejects.toThrow('unknown provider "pixelforge"');
    const twin = { ...pixelforge, name: "crazyhorse" };
    await expect(main(["schema", "crazyhorse"], out, { customProviders: [twin] })).rejects.toThrow(
      'a provider named "crazyhorse" is built in',
    );
  });

  test("the built bin (dist/cli/index.js, which npm test builds) runs", async () => {
    const bin = join(root, "dist", "cli", "index.js");
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` (npm test does it)`);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const run = await cli(["--help"], [bin]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("imagegen-webhooks simulate <provider>");
  });
});

describe("the CLI signs fal.ai and Ideogram deliveries with an Ed25519 key (--private-key, keys)", () => {
  const USER = "u_cli_account";
  let dir: string;
  let jwks: { keys: JWK[] };
  /** A private JWK with a kid of its own, as a user may keep one; its public half is in the receiver's jwks too. */
  let jwkFile: string;
  const JWK_KID = "my-own-key-id";
  let receiving: { url: string; events: Seen[]; close(): Promise<void> };
  /** The receiver's route for a provider, and the key and account to sign with. */
  const signedBy = (provider: string, key: string) => ["--url", `${receiving.url}${provider}`, "--private-key", key, "--user-id", USER];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cli-ed25519-"));
    const made = await cli(["keys", "--private-key", join(dir, "key.pem")]);
    expect([made.code, made.stderr]).toEqual([0, `wrote a new Ed25519 private key to ${join(dir, "key.pem")}\n`]);
    jwks = JSON.parse(made.stdout) as { keys: JWK[] };
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    jwkFile = join(dir, "key.jwk.json");
    writeFileSync(jwkFile, JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: JWK_KID }));
    const webhooks = createWebhooks({
      providers: {
        fal: { userId: USER, jwks },
        ideogram: { userId: USER, jwks: { keys: [...jwks.keys, { ...(publicKey.export({ format: "jwk" }) as JWK), kid: JWK_KID }] } },
      },
    });
    const events: Seen[] = [];
    webhooks.on("*", (event) => void events.push(event));
    const server = createServer(webhooks.middleware());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    receiving = {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
      events,
      async close() {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await webhooks.close();
      },
    };
  });
  afterAll(async () => {
    await receiving.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("keys writes a new PEM key its owner alone reads, prints its public JWKS, and prints the same set again for the same file", async () => {
    const file = join(dir, "key.pem");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(jwks.keys).toEqual([{ kty: "OKP", crv: "Ed25519", x: expect.any(String), kid: expect.any(String), alg: "EdDSA", use: "sig" }]);
    expect(jwks.keys[0]).not.toHaveProperty("d");
    // The kid is the key's RFC 7638 thumbprint, as jose computes it.
    expect(jwks.keys[0]!.kid).toBe(await calculateJwkThumbprint(jwks.keys[0]!));
    const again = await cli(["keys", "--private-key", file]);
    expect([again.code, again.stderr, JSON.parse(again.stdout)]).toEqual([0, "", jwks]);
  });

  test("send fal signs the documented message: the receiver accepts it, and Node's own crypto.verify checks it", async () => {
    const run = await cli(["send", "fal", "OK", "--url", `${receiving.url}fal`, "--private-key", join(dir, "key.pem"), "--user-id", USER]);
    expect([run.code, run.stderr]).toEqual([0, ""]);
    expect(run.stdout).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/fal fal OK: 200/);
    expect(receiving.events.at(-1)).toEqual(expect.objectContaining({ name: "fal.ok" }));

    // The same delivery to a server that only records it, checked here by hand against the message fal documents.
    const seen = await recordOne(["send", "fal", "ERROR", "--private-key", join(dir, "key.pem"), "--user-id", USER]);
    const body = JSON.parse(seen.body) as { request_id: string; status: string };
    expect(body.status).toBe("ERROR");
    const { headers } = seen;
    expect(headers["x-fal-webhook-request-id"]).toBe(body.request_id);
    expect(headers["x-fal-webhook-user-id"]).toBe(USER);
    expect(Math.abs(Number(headers["x-fal-webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    const message = [body.request_id, USER, headers["x-fal-webhook-timestamp"], createHash("sha256").update(seen.body).digest("hex")].join(
      "\n",
    );
    const publicKey = createPublicKey({ key: jwks.keys[0] as never, format: "jwk" });
    expect(verify(null, Buffer.from(message), publicKey, Buffer.from(String(headers["x-fal-webhook-signature"]), "hex"))).toBe(true);
  });

  test("simulate fal plays the job signed, its retry deduplicated", async () => {
    const before = receiving.events.length;
    const run = await cli(["simulate", "fal", ...signedBy("fal", join(dir, "key.pem")), "--speed", "0", "--retry", "--seed", "5"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\(retry\): 200/);
    expect(receiving.events.slice(before).map((e) => e.name)).toEqual([expect.stringMatching(/^fal\.(ok|error)$/)]);
  });

  test("send and simulate ideogram sign under the key's id: a JWK file's kid, a PEM key's thumbprint", async () => {
    const seen = await recordOne(["send", "ideogram", "completed", "--private-key", jwkFile, "--user-id", USER]);
    expect(seen.headers["x-ideogram-webhook-key-id"]).toBe(JWK_KID);
    const body = JSON.parse(seen.body) as { generation_id: string };
    expect(seen.headers["x-ideogram-webhook-generation-id"]).toBe(body.generation_id);

    const before = receiving.events.length;
    const send = await cli(["send", "ideogram", "completed", ...signedBy("ideogram", jwkFile)]);
    expect([send.code, send.stderr]).toEqual([0, ""]);
    const simulate = await cli(["simulate", "ideogram", ...signedBy("ideogram", join(dir, "key.pem")), "--speed", "0", "--no-retry"]);
    expect([simulate.code, simulate.stderr]).toEqual([0, ""]);
    expect(receiving.events.slice(before).map((e) => e.name)).toEqual(["ideogram.completed", expect.stringMatching(/^ideogram\./)]);
  });

  test("a key the receiver does not hold is refused: exit 1, the 401 printed, and what to give the receiver; another account likewise", async () => {
    const other = join(dir, "other.pem");
    expect((await cli(["keys", "--private-key", other])).code).toBe(0);
    const before = receiving.events.length;
    const wrong = await cli(["send", "fal", "OK", "--url", `${receiving.url}fal`, "--private-key", other, "--user-id", USER]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("fal OK: 401");
    expect(wrong.stdout).toContain("urn:imagegen-webhooks:problem:auth.failed");
    expect(wrong.stdout).toContain(
      `hint: the receiver's providers.fal.jwks must hold the public half of ${other}: imagegen-webhooks keys --private-key ${other} prints it`,
    );
    const simulated = await cli(["simulate", "ideogram", ...signedBy("ideogram", other), "--speed", "0"]);
    expect(simulated.code).toBe(1);
    expect(simulated.stdout).toMatch(
      /stopped: the receiver refused \w+ with 401\nhint: the receiver's providers\.ideogram\.jwks must hold/,
    );
    const account = await cli([
      "send",
      "fal",
      "OK",
      "--url",
      `${receiving.url}fal`,
      "--private-key",
      join(dir, "key.pem"),
      "--user-id",
      "u_someone_else",
    ]);
    expect(account.code).toBe(1);
    expect(account.stdout).toContain("urn:imagegen-webhooks:problem:auth.wrong-account");
    expect(account.stdout).toContain("hint: the receiver's providers.fal.userId is not --user-id u_someone_else");
    expect(receiving.events.length).toBe(before);
  });

  test("a missing or unusable key, or a missing account, exits 2 before anything is sent, saying what to give", async () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(join(dir, "public.pem"), publicKey.export({ format: "pem", type: "spki" }));
    writeFileSync(join(dir, "public.jwk.json"), JSON.stringify(publicKey.export({ format: "jwk" })));
    writeFileSync(
      join(dir, "rsa.pem"),
      generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }),
    );
    writeFileSync(join(dir, "junk.txt"), "not a key\n");
    const url = `${receiving.url}fal`;
    const key = join(dir, "key.pem");
    const cases: [string[], string][] = [
      [
        ["send", "fal", "OK", "--url", url],
        "fal signs its deliveries with Ed25519: give --private-key <file> (imagegen-webhooks keys --private-key <file> makes one",
      ],
      [["simulate", "ideogram", "--url", url, "--secret", "x"], "ideogram signs its deliveries with Ed25519: give --private-key <file>"],
      [
        ["send", "fal", "OK", "--url", url, "--private-key", key],
        "--user-id is required for fal: the account its deliveries name (x-fal-webhook-user-id), the receiver's providers.fal.userId",
      ],
      [
        ["send", "fal", "OK", "--url", url, "--private-key", join(dir, "nope.pem"), "--user-id", USER],
        `--private-key ${join(dir, "nope.pem")}: cannot read it (ENOENT)`,
      ],
      [
        ["send", "fal", "OK", "--url", url, "--private-key", join(dir, "public.pem"), "--user-id", USER],
        "a public key: sign with the private key; the public one goes in the receiver's jwks",
      ],
      [["send", "fal", "OK", "--url", url, "--private-key", join(dir, "public.jwk.json"), "--user-id", USER], `a public key (no "d")`],
      [["send", "fal", "OK", "--url", url, "--private-key", join(dir, "rsa.pem"), "--user-id", USER], "a rsa key, not Ed25519"],
      [
        ["send", "fal", "OK", "--url", url, "--private-key", join(dir, "junk.txt"), "--user-id", USER],
        "not a key: give a PEM private key (openssl genpkey -algorithm ed25519) or a JWK",
      ],
      [
        ["send", "fal", "OK", "--url", url, "--private-key", key, "--user-id", USER, "--signing-secret", "s"],
        "fal signs with an Ed25519 key, not a shared secret",
      ],
      [
        ["send", "bfl", "Ready", "--url", url, "--private-key", key],
        "--private-key is for a provider that signs with Ed25519 (fal, ideogram): bfl does not",
      ],
      [["keys"], "keys needs --private-key <file>"],
    ];
    const before = receiving.events.length;
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    runs.forEach((run, i) => {
      expect([cases[i]![0].join(" "), run.code, run.stderr]).toEqual([cases[i]![0].join(" "), 2, expect.stringContaining(cases[i]![1])]);
    });
    expect(receiving.events.length).toBe(before);
  });

  /** Runs the CLI at a server that records the one request it gets and answers 200. */
  async function recordOne(args: string[]): Promise<{ headers: Record<string, string | string[] | undefined>; body: string }> {
    let seen: { headers: Record<string, string | string[] | undefined>; body: string } | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
        res.end("ok");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const run = await cli([...args, "--url", `http://127.0.0.1:${(server.address() as AddressInfo).port}/`]);
      expect(run.code).toBe(0);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    return seen!;
  }
});

describe("imagegen-webhooks deliveries, against the suite's redis-server", () => {
  const queueName = `cli-deliveries-${randomUUID()}`;
  const redisArgs = () => ["--redis", suiteRedisUrl(), "--queue", queueName];
  const deliveries = (args: string[], entry?: string[]) => cli(["deliveries", ...args], entry);
  let connection: Redis;
  let webhooks: Webhooks;
  const seen: { id: string; attempt: number; replayed: boolean }[] = [];

  /** A receiver with an inbox whose listener fails for the generation "broken" until it is replayed. */
  beforeAll(async () => {
    connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
    webhooks = createWebhooks({
      providers: { crazyhorse: { secret: "ch" } },
      inbox: bullmqInbox({ connection, queueName, attempts: 2, backoff: 10 }),
    });
    webhooks.on("generation", (event) => {
      seen.push({ id: event.id, attempt: event.attempt, replayed: event.replayed });
      if (event.generation.id === "broken" && !event.replayed) throw new Error(`the listener is broken (attempt ${event.attempt})`);
    });
    const dead = new Promise((resolve) => webhooks.once("dead", resolve));
    await webhooks.startWorker();
    for (const code of ["fine", "broken"]) {
      const answer = await webhooks.receive({
        provider: "crazyhorse",
        headers: { "content-type": "application/json" },
        query: { token: "ch" },
        rawBody: JSON.stringify(crazyhorseDelivery({ state: "DONE", code })),
      });
      expect(answer.status).toBe(200);
    }
    await dead;
    await waitFor(async () => (await webhooks.deliveries.get("crazyhorse:fine:done"))?.status === "completed");
  });

  afterAll(async () => {
    await webhooks?.close();
    connection?.disconnect();
  });

  test("list prints a table of the deliveries, newest change first, filtered by --status, --provider and --limit", async () => {
    const [all, dead, none, one, unnamed] = await Promise.all([
      deliveries(["list", ...redisArgs()]),
      deliveries(["list", ...redisArgs(), "--status", "dead"]),
      deliveries(["list", ...redisArgs(), "--provider", "all-images"]),
      deliveries(["list", ...redisArgs(), "--limit", "1"]),
      deliveries(["list", "--redis", suiteRedisUrl(), "--provider", "all-images", "--status", "dead"]),
    ]);
    expect(all.code).toBe(0);
    const [header, ...rows] = all.stdout.trimEnd().split("\n").map(cells);
    expect(header).toEqual(["STATUS", "ATTEMPTS", "RECEIVED", "EVENT", "KEY", "ERROR"]);
    // The last change first: the dead one failed after the other completed.
    expect(rows.map(([status, attempts, , event, key]) => [status, attempts, event, key])).toEqual([
      ["dead", "2", "crazyhorse.done", "crazyhorse:broken:done"],
      ["completed", "1", "crazyhorse.done", "crazyhorse:fine:done"],
    ]);
    expect(all.stdout).toMatch(/crazyhorse:broken:done +the listener is broken \(attempt 2\)\n/);
    expect(
      dead.stdout
        .trimEnd()
        .split("\n")
        .slice(1)
        .map(cells)
        .map((row) => row[0]),
    ).toEqual(["dead"]);
    expect(none).toMatchObject({ code: 0, stdout: "no deliveries\n" });
    // Without --queue, an empty answer says which queue it read, and how to name another.
    expect(unnamed).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^no deliveries in the default queue "imagegen-webhooks": .*--queue <name>\n$/),
    });
    expect(one.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  test("show prints one delivery as JSON: its payload, attempts and each attempt's error; an unknown key exits 1", async () => {
    const [shown, missing] = await Promise.all([
      deliveries(["show", "crazyhorse:broken:done", ...redisArgs()]),
      deliveries(["show", "crazyhorse:nothing:done", ...redisArgs()]),
    ]);
    expect(shown.code).toBe(0);
    const detail = JSON.parse(shown.stdout) as Record<string, unknown>;
    expect(detail).toMatchObject({
      key: "crazyhorse:broken:done",
      status: "dead",
      attempts: 2,
      errors: [
        { attempt: 1, message: "the listener is broken (attempt 1)" },
        { attempt: 2, message: "the listener is broken (attempt 2)" },
      ],
      payload: { state: "DONE", code: "broken" },
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no delivery "crazyhorse:nothing:done"');
  });

  test("replay runs a dead delivery again in the worker, which sees replayed: true and completes it; an unknown key exits 1", async () => {
    const replay = await deliveries(["replay", "crazyhorse:broken:done", ...redisArgs()]);
    expect(replay).toMatchObject({ code: 0, stdout: "crazyhorse:broken:done: queued again, replayed; a worker on this queue runs it\n" });
    await waitFor(async () => (await webhooks.deliveries.get("crazyhorse:broken:done"))?.status === "completed");
    expect(seen.filter((run) => run.id === "broken:done")).toEqual([
      { id: "broken:done", attempt: 1, replayed: false },
      { id: "broken:done", attempt: 2, replayed: false },
      { id: "broken:done", attempt: 1, replayed: true },
    ]);
    const listed = await deliveries(["list", ...redisArgs(), "--status", "completed"]);
    expect(listed.stdout).toMatch(/completed +1 .* crazyhorse\.done \(replayed\) +crazyhorse:broken:done\n/);
    const unknown = await deliveries(["replay", "crazyhorse:nothing:done", ...redisArgs()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no delivery "crazyhorse:nothing:done"');
  });

  test("mistakes in the command exit 2 and say what to change; an unreachable Redis exits 1", async () => {
    const port = await freeLoopbackPort();
    const runs = await Promise.all([
      deliveries(["list"]),
      deliveries(["list", ...redisArgs(), "--status", "failed"]),
      deliveries(["list", ...redisArgs(), "--limit", "0"]),
      deliveries(["show", ...redisArgs()]),
      deliveries(["purge", ...redisArgs()]),
      deliveries(["list", ...redisArgs(), "--url", "http://x"]),
      deliveries(["list", "--redis", "localhost:6379"]),
      deliveries(["list", "--redis", `redis://127.0.0.1:${port}`]),
    ]);
    expect(runs.map((run) => [run.code, run.stderr.split("\n")[0]])).toEqual([
      [2, "imagegen-webhooks deliveries: --redis is required: the inbox's Redis, e.g. redis://127.0.0.1:6379"],
      [2, 'imagegen-webhooks deliveries: --status is one of queued, active, retrying, completed, dead, not "failed"'],
      [2, 'imagegen-webhooks deliveries: --limit takes a whole number of 1 or more, not "0"'],
      [2, "imagegen-webhooks deliveries: show takes one delivery key, as list shows it"],
      [2, 'imagegen-webhooks deliveries: unknown "purge": list, show or replay'],
      [
        2,
        "imagegen-webhooks deliveries: Unknown option '--url': the options are --redis, --cluster, --queue, --prefix, --partitions, --status, --provider, --limit",
      ],
      [2, 'imagegen-webhooks deliveries: --redis takes a redis:// or rediss:// URL, not "localhost:6379"'],
      [1, `imagegen-webhooks deliveries: cannot reach Redis at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`],
    ]);
    const help = await deliveries(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("imagegen-webhooks deliveries replay <key> --redis <url>");
  });

  test("the built bin lists them too (there, the lazy import() of bullmq and ioredis is Node's own, not tsx's)", async () => {
    const bin = join(root, "dist", "cli", "index.js");
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`npm run build\` (npm test does it)`);
    const run = await cli(["deliveries", "list", ...redisArgs(), "--provider", "crazyhorse"], [bin]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^STATUS +ATTEMPTS[\s\S]*\ncompleted +1 .* crazyhorse:fine:done\n/);
  });

  test("without the optional bullmq and ioredis packages, it says which to install and exits 1", async () => {
    const run = await deliveries(
      ["list", ...redisArgs()],
      ["-r", "./__tests__/fixtures/without-redis-packages.js", "--import", "tsx", "lib/cli/index.ts"],
    );
    expect(run).toMatchObject({ code: 1, stdout: "" });
    expect(run.stderr).toBe(
      "imagegen-webhooks deliveries: the deliveries command needs the bullmq and ioredis packages: npm install bullmq ioredis\n",
    );
  });
});

describe("imagegen-webhooks deliveries prints no terminal control bytes from a delivery", () => {
  const queueName = `cli-hostile-${randomUUID()}`;
  const redisArgs = () => ["--redis", suiteRedisUrl(), "--queue", queueName];
  // Red text, a window title set (OSC ... BEL), backspaces over what was printed, a C1 CSI, a bidi override.
  const HOSTILE = "\u001b[31mred\u001b]0;owned\u0007\b\b\b\u009b2J\u202eevil";
  const key = `crazyhorse:x${HOSTILE}:done${HOSTILE.toLowerCase()}`;
  let connection: Redis;
  let webhooks: Webhooks;

  beforeAll(async () => {
    connection = new Redis(suiteRedisUrl(), { maxRetriesPerRequest: null });
    webhooks = createWebhooks({
      providers: { crazyhorse: { secret: "ch" } },
      inbox: bullmqInbox({ connection, queueName, attempts: 1, backoff: 10 }),
    });
    webhooks.on("generation", () => {
      throw new Error(`the listener failed ${HOSTILE}`);
    });
    const dead = new Promise((resolve) => webhooks.once("dead", resolve));
    await webhooks.startWorker();
    const answer = await webhooks.receive({
      provider: "crazyhorse",
      headers: { "content-type": "application/json" },
      query: { token: "ch" },
      rawBody: JSON.stringify(crazyhorseDelivery({ state: `DONE${HOSTILE}`, code: `x${HOSTILE}` })),
    });
    expect(answer.status).toBe(200);
    await dead;
  });

  afterAll(async () => {
    await webhooks?.close();
    connection?.disconnect();
  });

  /** Any control character but the line feeds that end the lines, and the bidi controls. */
  const UNSAFE = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

  test("list, show and replay escape them, as JSON does, and still name the delivery", async () => {
    const [list, show, replay] = await Promise.all([
      cli(["deliveries", "list", ...redisArgs()]),
      cli(["deliveries", "show", key, ...redisArgs()]),
      cli(["deliveries", "replay", `${key}-missing`, ...redisArgs()]),
    ]);
    expect([list.code, show.code, replay.code]).toEqual([0, 0, 1]);
    for (const run of [list, show, replay]) {
      expect(run.stdout.replace(/\n/g, "")).not.toMatch(UNSAFE);
      expect(run.stderr.replace(/\n/g, "")).not.toMatch(UNSAFE);
    }
    expect(list.stdout).toContain("\\u001b[31mred");
    expect(list.stdout).toContain("the listener failed \\u001b[31mred");
    expect(replay.stderr).toContain("\\u001b]0;owned\\u0007");
  });
});

/** The cells of one line of `deliveries list`'s table (no cell holds two spaces in a row). */
function cells(line: string): string[] {
  return line.split(/ {2,}/);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
