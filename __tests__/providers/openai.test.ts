// OpenAI as a user receives it: its documented event, signed the Standard Webhooks way, verified,
// normalized and emitted; forgeries refused; what the testing hooks sign accepted by the `openai`
// package itself; and the response read back from a local fake of OpenAI's API before
// generation.completed fires, every failure of that API a failed delivery with nothing emitted.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { main } from "../../lib/cli/index";
import {
  createWebhooks,
  defineProvider,
  directoryImageStore,
  type AnyWebhookEvent,
  type ImageFailed,
  type Logger,
  type WebhooksOptions,
} from "../../lib/entries/index";
import { buildDelivery, openaiExample, signDelivery } from "../../lib/entries/testing";

const SIGNING_SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const API_KEY = "sk-test-read-back";
/** A 1×1 PNG, as OpenAI's `result` carries an image: base64. */
const PNG_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

/** A local stand-in for OpenAI's API: `handle` answers each request; `requests` records them. */
async function fakeApi(handle: Handler) {
  const state = { handle, requests: [] as { url: string; authorization: string | undefined }[], origin: "" };
  const server = createServer((req, res) => {
    state.requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    state.handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** The response object the API answers for `id`, with one image per base64 given. */
function responseObject(id: string, images: string[] = [PNG_BASE64]) {
  return {
    id,
    object: "response",
    created_at: 1719168000,
    status: "completed",
    error: null,
    incomplete_details: null,
    model: "gpt-5",
    output: [
      ...images.map((result, i) => ({ type: "image_generation_call", id: `ig_${i}`, status: "completed", result, output_format: "png" })),
      { type: "message", id: "msg_1", role: "assistant", content: [{ type: "output_text", text: "Here it is." }] },
    ],
  };
}

function receiver(openai: Record<string, unknown> = {}, more: Partial<WebhooksOptions> = {}) {
  const webhooks = createWebhooks({ providers: { openai: { signature: { secret: SIGNING_SECRET }, ...openai } }, ...more });
  const events: AnyWebhookEvent[] = [];
  const names: string[] = [];
  webhooks.on("*", (event) => void events.push(event));
  for (const name of ["openai.response.completed", "openai", "generation", "generation.completed", "generation.failed"] as const) {
    webhooks.on(name, () => void names.push(name));
  }
  const send = (body: unknown, sign: { id?: string; timestamp?: number; secret?: string } = {}) => {
    const rawBody = JSON.stringify(body);
    return webhooks.receive({
      provider: "openai",
      headers: { "content-type": "application/json", ...signDelivery(rawBody, { secret: SIGNING_SECRET, ...sign }) },
      rawBody,
    });
  };
  return { webhooks, events, names, send };
}

const warn = jest.fn();
const error = jest.fn();
const quietLogger = (): Logger => {
  warn.mockReset();
  error.mockReset();
  return { debug: () => {}, info: () => {}, warn, error };
};

test("the documented event is verified and emitted as openai.response.completed and generation.completed, about its response", async () => {
  const { webhooks, events, names, send } = receiver({}, { logger: quietLogger() });
  expect(await send(openaiExample, { id: openaiExample.id })).toEqual({ status: 200, headers: {}, body: "" });
  expect(names).toEqual(["openai.response.completed", "openai", "generation.completed", "generation"]);
  expect(events[0]?.name).toBe("openai.response.completed");
  expect(events[0]?.generation).toEqual({
    provider: "openai",
    id: "resp_abc123",
    status: "completed",
    images: [],
    params: {},
    createdAt: "2024-06-23T18:40:00.000Z",
  });
  // webhook-id (the event's id) is the key: the retry of the same event is a duplicate.
  expect(await send(openaiExample, { id: openaiExample.id })).toEqual({ status: 200, headers: {}, body: "" });
  expect(events).toHaveLength(1);
  await webhooks.close();
});

test("failed, cancelled and incomplete responses are generation.failed with why", async () => {
  const { webhooks, events, send } = receiver({}, { logger: quietLogger() });
  for (const type of ["response.failed", "response.cancelled", "response.incomplete"]) await send(buildDelivery("openai", { type }));
  expect(events.map((event) => [event.name, event.generation.status, event.generation.error])).toEqual([
    ["openai.response.failed", "failed", "the response failed"],
    ["openai.response.cancelled", "failed", "the response was cancelled"],
    ["openai.response.incomplete", "failed", "the response is incomplete"],
  ]);
  await webhooks.close();
});

test("events not about a response are verified and emitted under their own names, with no generation event", async () => {
  const { webhooks, events, names, send } = receiver({}, { logger: quietLogger() });
  for (const type of ["batch.completed", "fine_tuning.job.succeeded", "eval.run.failed", "realtime.call.incoming"]) {
    expect((await send(buildDelivery("openai", { type }))).status).toBe(200);
  }
  expect(events.map((event) => event.name)).toEqual([
    "openai.batch.completed",
    "openai.fine_tuning.job.succeeded",
    "openai.eval.run.failed",
    "openai.realtime.call.incoming",
  ]);
  expect(names).toEqual(["openai", "openai", "openai", "openai"]);
  await webhooks.close();
});

test("a forged signature, a stale timestamp and a tampered body are 401, and nothing is emitted", async () => {
  const { webhooks, events, send } = receiver({}, { logger: quietLogger() });
  const forged = await send(buildDelivery("openai"), { secret: `whsec_${randomBytes(32).toString("base64")}` });
  const stale = await send(buildDelivery("openai"), { timestamp: Math.floor(Date.now() / 1000) - 301 });
  const rawBody = JSON.stringify(buildDelivery("openai"));
  const tampered = await webhooks.receive({
    provider: "openai",
    headers: { "content-type": "application/json", ...signDelivery(rawBody, { secret: SIGNING_SECRET }) },
    rawBody: rawBody.replace("response.completed", "response.failed"),
  });
  for (const answer of [forged, stale, tampered]) expect(answer.status).toBe(401);
  expect(events).toEqual([]);
  await webhooks.close();
});

test("the openai package's webhooks.unwrap() accepts what the testing hooks sign", async () => {
  const client = new OpenAI({ apiKey: "sk-unused", webhookSecret: SIGNING_SECRET });
  const body = JSON.stringify(buildDelivery("openai"));
  const headers = signDelivery(body, { secret: SIGNING_SECRET });
  const event = await client.webhooks.unwrap(body, headers);
  expect(event).toMatchObject({ type: "response.completed", object: "event" });
  // …and refuses it signed with another secret: the check is real.
  const other = signDelivery(body, { secret: `whsec_${randomBytes(32).toString("base64")}` });
  await expect(client.webhooks.unwrap(body, other)).rejects.toThrow();
});

test("the openai package's webhooks.unwrap() accepts what the CLI's send and simulate sign for openai", async () => {
  const client = new OpenAI({ apiKey: "sk-unused", webhookSecret: SIGNING_SECRET });
  const unwrapped: unknown[] = [];
  const api = await fakeApi((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
      client.webhooks.unwrap(Buffer.concat(chunks).toString("utf8"), headers).then(
        (event) => {
          unwrapped.push(event);
          res.writeHead(200).end();
        },
        () => res.writeHead(400).end(),
      );
    });
  });
  const out = { write: () => true } as unknown as NodeJS.WritableStream;
  const url = `${api.origin}/webhooks/openai`;
  expect(await main(["send", "openai", "response.completed", "--url", url, "--signing-secret", SIGNING_SECRET], out)).toBe(0);
  expect(await main(["simulate", "openai", "--url", url, "--signing-secret", SIGNING_SECRET, "--speed", "0", "--no-retry"], out)).toBe(0);
  expect(unwrapped).toEqual([
    expect.objectContaining({ object: "event", type: "response.completed" }),
    expect.objectContaining({ object: "event", type: expect.stringMatching(/^response\.(completed|failed)$/) }),
  ]);
});

test("without an apiKey, the receiver says at start-up that openai's events carry no images", () => {
  const logger = quietLogger();
  createWebhooks({ providers: { openai: { signature: { secret: SIGNING_SECRET } } }, logger });
  expect(warn).toHaveBeenCalledWith({}, expect.stringContaining("providers.openai.apiKey is not set"));
  expect(warn.mock.calls[0]?.[1]).toContain("no images");
  const withKey = quietLogger();
  createWebhooks({ providers: { openai: { signature: { secret: SIGNING_SECRET }, apiKey: API_KEY } }, logger: withKey });
  expect(warn).not.toHaveBeenCalled();
});

test("with an apiKey, response.completed is read back before it fires: its image_generation_call results are the images, as bytes", async () => {
  const api = await fakeApi((req, res) =>
    json(res, 200, responseObject(decodeURIComponent(req.url!.split("/").pop()!), [PNG_BASE64, PNG_BASE64])),
  );
  const { webhooks, events, names, send } = receiver({ apiKey: API_KEY, apiBaseUrl: api.origin });
  const body = buildDelivery("openai");
  expect((await send(body)).status).toBe(200);
  expect(api.requests).toEqual([{ url: `/v1/responses/${body.data.id}`, authorization: `Bearer ${API_KEY}` }]);
  expect(names).toEqual(["openai.response.completed", "openai", "generation.completed", "generation"]);
  const images = events[0]!.generation.images;
  expect(images).toHaveLength(2);
  expect(images[0]).toMatchObject({ id: "ig_0", contentType: "image/png", url: `data:image/png;base64,${PNG_BASE64}` });
  expect(Buffer.from(images[0]!.bytes!)).toEqual(Buffer.from(PNG_BASE64, "base64"));
  // A failed response is not read back: it has no images to give.
  await send(buildDelivery("openai", { type: "response.failed" }));
  expect(api.requests).toHaveLength(1);
  await webhooks.close();
});

describe("a read-back that fails is a failed delivery: 500, nothing emitted, and the provider's retry reads it again", () => {
  const other = (res: ServerResponse) => json(res, 200, responseObject("resp_someone_else"));
  const cases: [string, Handler][] = [
    ["401", (_req, res) => json(res, 401, { error: { message: "Incorrect API key provided" } })],
    ["404", (_req, res) => json(res, 404, { error: { message: "No response found" } })],
    ["429 with Retry-After", (_req, res) => json(res, 429, { error: { message: "Rate limit" } }, { "retry-after": "20" })],
    ["500", (_req, res) => json(res, 500, { error: { message: "boom" } })],
    ["a body that is not JSON", (_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{not json")],
    ["an answer not shaped as a response", (_req, res) => json(res, 200, { id: "resp_x", output: "nope" })],
    ["an answer about another response", (_req, res) => other(res)],
  ];
  test.each(cases)("%s", async (_name, failing) => {
    const api = await fakeApi(failing);
    const logger = quietLogger();
    const { webhooks, events, send } = receiver({ apiKey: API_KEY, apiBaseUrl: api.origin }, { logger });
    const body = buildDelivery("openai");
    const eventId = body.id;
    const answer = await send(body, { id: eventId });
    expect(answer.status).toBe(500);
    expect(JSON.parse(answer.body)).toMatchObject({ type: "urn:imagegen-webhooks:problem:completion.failed", status: 500 });
    expect(events).toEqual([]);
    expect(error).toHaveBeenCalledWith(
      expect.objectContaining({ err: expect.anything() }),
      expect.stringContaining("could not be read back"),
    );
    // The key was released: OpenAI's retry, once the API answers, fires it.
    api.handle = (req, res) => json(res, 200, responseObject(decodeURIComponent(req.url!.split("/").pop()!)));
    expect((await send(body, { id: eventId })).status).toBe(200);
    expect(events.map((event) => event.generation.images.length)).toEqual([1]);
    await webhooks.close();
  });
});

describe("keepImages stores an image that came as bytes as it stores a download", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  async function keeping(results: string[], maxBytes?: number) {
    const dir = await mkdtemp(join(tmpdir(), "openai-kept-"));
    dirs.push(dir);
    const api = await fakeApi((req, res) => json(res, 200, responseObject(decodeURIComponent(req.url!.split("/").pop()!), results)));
    const setup = receiver(
      { apiKey: API_KEY, apiBaseUrl: api.origin },
      { keepImages: { store: directoryImageStore(dir), ...(maxBytes !== undefined && { maxBytes }) } },
    );
    const failed: ImageFailed[] = [];
    setup.webhooks.on("image.failed", (failure) => void failed.push(failure));
    return { ...setup, dir, failed };
  }

  test("its keptUrl, its key under the provider and the generation, its size and its sniffed type", async () => {
    const { webhooks, events, send, dir } = await keeping([PNG_BASE64]);
    expect((await send(buildDelivery("openai"))).status).toBe(200);
    const [image] = events[0]!.generation.images;
    const png = Buffer.from(PNG_BASE64, "base64");
    expect(image!.kept).toEqual({
      key: expect.stringMatching(/^openai\/resp_[0-9a-f]+\/[0-9a-f]{32}/),
      size: png.length,
      contentType: "image/png",
    });
    expect(image!.keptUrl).toEqual(expect.any(String));
    expect(await readFile(join(dir, image!.kept!.key))).toEqual(png);
    await webhooks.close();
  });

  test("bytes that are not the image they claim, or over maxBytes, are image.failed, and the event still fires", async () => {
    const notPng = Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>").toString("base64");
    const large = Buffer.concat([Buffer.from(PNG_BASE64, "base64"), randomBytes(4096)]).toString("base64");
    const { webhooks, events, send, failed } = await keeping([notPng, large], 1024);
    expect((await send(buildDelivery("openai"))).status).toBe(200);
    expect(failed.map(({ index, reason }) => [index, reason])).toEqual([
      [0, "not-an-image"],
      [1, "too-large"],
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]!.generation.images.map((image) => image.keptUrl)).toEqual([undefined, undefined]);
    await webhooks.close();
  });
});

test("reconcile reads a response back as the event it would have sent, completed with its images; one still in progress stays open", async () => {
  const statuses = new Map<string, string>();
  const api = await fakeApi((req, res) => {
    const id = decodeURIComponent(req.url!.split("/").pop()!);
    json(res, 200, { ...responseObject(id), status: statuses.get(id) ?? "completed" });
  });
  const { webhooks, events } = receiver({ apiKey: API_KEY, apiBaseUrl: api.origin }, { logger: quietLogger() });
  statuses.set("resp_running", "in_progress");
  expect(await webhooks.reconcile("openai", "resp_running")).toMatchObject({ outcome: "open" });
  expect(await webhooks.reconcile("openai", "resp_done")).toEqual({
    provider: "openai",
    id: "resp_done",
    status: "completed",
    outcome: "emitted",
  });
  expect(events.map((event) => [event.name, event.origin, event.generation.images.length])).toEqual([
    ["openai.response.completed", "reconciled", 1],
  ]);
  await webhooks.close();
});

test("defineProvider checks a completion: its functions, its schema, its sentence, and the credential it reads with", () => {
  const base = {
    name: "thin",
    schema: { type: "object" },
    eventName: () => "done",
    idempotencyKey: () => "k",
    normalize: () => ({ id: "x", status: "completed" as const, images: [], params: {}, createdAt: "2024-01-01T00:00:00Z" }),
    fetchGeneration: () => Promise.resolve({}),
    credential: { option: "apiKey", header: "authorization", prefix: "Bearer " },
  } as const;
  const complete = {
    needs: () => true,
    schema: { type: "object" },
    read: () => Promise.resolve({}),
    idOf: () => "x",
    apply: () => ({}),
    withoutCredential: "its events carry no images",
  };
  expect(defineProvider({ ...base, complete }).complete).toBeDefined();
  expect(() => defineProvider({ ...base, complete: { ...complete, read: undefined as never } })).toThrow(
    "complete.read must be a function",
  );
  expect(() => defineProvider({ ...base, complete: { ...complete, withoutCredential: "" } })).toThrow("complete.withoutCredential");
  const { credential: _credential, fetchGeneration: _fetch, ...withoutCredential } = base;
  expect(() => defineProvider({ ...withoutCredential, complete })).toThrow(
    "complete reads the API with its credential: declare credential too",
  );
  expect(() => defineProvider({ ...base, isGeneration: "yes" as never })).toThrow("isGeneration must be a function");
});
