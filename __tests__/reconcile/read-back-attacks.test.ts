// A read-back against a hostile provider API (a local fake that the attacker controls, and a
// second local server on another origin that counts what reaches it): the credential never leaves
// the API's origin, an answer about another generation is refused, an answer is bounded in time
// and size, and an id from a webhook cannot reshape the URL read.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhooks, defineProvider, ProviderApiError, type AnyWebhookEvent, type Logger, type Webhooks } from "imagegen-webhooks";
import { allImagesDelivery, replicateDelivery } from "imagegen-webhooks/testing";
import { receiveOk } from "../helpers/receive";

const SECRET = "read-back-attack-secret";
const TOKEN = "r8_attack_token";
const API_KEY = "all-images-attack-key";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface FakeApi {
  url: string;
  requests: IncomingMessage[];
}

const servers: Server[] = [];
const receivers: Webhooks[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((webhooks) => webhooks.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

/** A server on loopback, on a port of its own (so an origin of its own): answers with `handler`, records every request. */
async function fakeApi(handler: Handler): Promise<FakeApi> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  void res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));

interface Warning {
  obj: Record<string, unknown>;
  msg: string;
}
function capturingLogger(): Logger & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  const noop = () => {};
  return {
    debug: noop,
    info: noop,
    error: noop,
    warn: (obj: object, msg?: string) => void warnings.push({ obj: obj as Record<string, unknown>, msg: msg ?? "" }),
    warnings,
  };
}

function receiver(apiBaseUrl: string, options: { timeoutMs?: number; maxBytes?: number; logger?: Logger } = {}) {
  const webhooks = createWebhooks({
    providers: {
      replicate: { secret: SECRET, apiToken: TOKEN, apiBaseUrl },
      "all-images": { secret: SECRET, apiKey: API_KEY, apiBaseUrl },
    },
    reconcile: {
      afterMs: 40,
      everyMs: 10,
      timeoutMs: options.timeoutMs ?? 2000,
      ...(options.maxBytes !== undefined && { maxBytes: options.maxBytes }),
    },
    ...(options.logger && { logger: options.logger }),
  });
  receivers.push(webhooks);
  const fired: AnyWebhookEvent[] = [];
  for (const name of ["generation.completed", "generation.failed"] as const) webhooks.on(name, (event) => void fired.push(event));
  return { webhooks, fired };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The id the fake API was asked about: the last path segment. */
const askedId = (req: IncomingMessage) => decodeURIComponent(new URL(req.url!, "http://x").pathname.split("/").pop()!);

/** A completed generation `id` as each provider's API answers it. */
const ANSWERS = {
  replicate: (id: string) => replicateDelivery("succeeded", { id }),
  "all-images": (id: string) => allImagesDelivery("print.completed", { data: { id } }).data,
};
const PROVIDERS = Object.keys(ANSWERS) as (keyof typeof ANSWERS)[];

describe("a redirect to another origin is never followed with the credential", () => {
  test.each(PROVIDERS)("%s", async (provider) => {
    const attacker = await fakeApi((req, res) => json(res, 200, ANSWERS[provider](askedId(req))));
    const api = await fakeApi((req, res) => void res.writeHead(302, { location: `${attacker.url}${req.url}` }).end());
    const logger = capturingLogger();
    const { webhooks, fired } = receiver(api.url, { logger });

    const read = webhooks.reconcile(provider, "gen-a");
    await expect(read).rejects.toBeInstanceOf(ProviderApiError);
    await expect(read).rejects.toThrow(/redirect.*another origin/);
    expect(api.requests).toHaveLength(1);
    expect(attacker.requests).toHaveLength(0);
    expect(fired).toEqual([]);
    // The log says which origin the answer pointed to, and that it was not followed.
    expect(logger.warnings).toEqual([
      { obj: expect.objectContaining({ provider, location: attacker.url }), msg: expect.stringMatching(/not followed/) },
    ]);
  });

  test("a redirect within the API's origin is followed, a few hops at most", async () => {
    const api = await fakeApi((req, res) => {
      const url = new URL(req.url!, "http://x");
      if (!url.searchParams.has("moved")) return void res.writeHead(307, { location: `${url.pathname}?moved=1` }).end();
      json(res, 200, ANSWERS.replicate(askedId(req)));
    });
    const { webhooks, fired } = receiver(api.url);
    await expect(webhooks.reconcile("replicate", "gen-b")).resolves.toMatchObject({ outcome: "emitted" });
    expect(api.requests.map((req) => req.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(fired).toHaveLength(1);

    const loop = await fakeApi((req, res) => void res.writeHead(302, { location: req.url! }).end());
    const looping = receiver(loop.url);
    await expect(looping.webhooks.reconcile("replicate", "gen-c")).rejects.toThrow(/redirects/);
    expect(loop.requests.length).toBeLessThanOrEqual(6);
  });
});

describe("an answer about another generation is refused", () => {
  test.each(PROVIDERS)("%s: on demand, nothing fires", async (provider) => {
    const api = await fakeApi((req, res) => json(res, 200, ANSWERS[provider]("gen-b")));
    const { webhooks, fired } = receiver(api.url);
    const read = webhooks.reconcile(provider, "gen-a");
    await expect(read).rejects.toBeInstanceOf(ProviderApiError);
    await expect(read).rejects.toThrow(/another generation/);
    expect(fired).toEqual([]);
  });

  test("in the background, it is logged as a provider API error and read again later", async () => {
    const id = randomUUID().slice(0, 13);
    const api = await fakeApi((req, res) => json(res, 200, ANSWERS.replicate(`${id}-other`)));
    const logger = capturingLogger();
    const { webhooks, fired } = receiver(api.url, { logger });
    await receiveOk(webhooks, "replicate", replicateDelivery("processing", { id }), SECRET);
    await until(() => api.requests.length >= 2);
    expect(fired).toEqual([]);
    const warning = logger.warnings.find((w) => /could not read generation/.test(w.msg));
    expect(warning?.obj.err).toBeInstanceOf(ProviderApiError);
  });
});

describe("an answer is bounded", () => {
  test("timeoutMs covers the body: a body that trickles forever is given up on time", async () => {
    const api = await fakeApi((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"id":"gen-a","status":"succeeded","logs":"');
      const timer = setInterval(() => res.write("x"), 20);
      res.on("close", () => clearInterval(timer));
    });
    const { webhooks } = receiver(api.url, { timeoutMs: 300 });
    const startedAt = Date.now();
    await expect(webhooks.reconcile("replicate", "gen-a")).rejects.toThrow(/within 300 ms/);
    expect(Date.now() - startedAt).toBeLessThan(1500);
  });

  test("the deadline holds for a defineProvider whose fetchGeneration passes no signal", async () => {
    const api = await fakeApi((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const timer = setInterval(() => res.write(" "), 20);
      res.on("close", () => clearInterval(timer));
    });
    const pixels = defineProvider({
      name: "pixels",
      schema: { type: "object", required: ["job"], properties: { job: { type: "string" } } } as const,
      eventName: () => "done",
      idempotencyKey: (p) => p.job,
      normalize: (p) => ({ id: p.job, status: "completed", images: [], params: {}, createdAt: new Date(0).toISOString() }),
      fetchGeneration: async (id, { baseUrl, fetch }) => (await (await fetch(`${baseUrl}/jobs/${id}`)).json()) as { job: string },
    });
    const webhooks = createWebhooks({
      customProviders: [pixels],
      providers: { pixels: { secret: SECRET, apiKey: "k", apiBaseUrl: api.url } },
      reconcile: { timeoutMs: 300 },
    });
    receivers.push(webhooks);
    const startedAt = Date.now();
    await expect(webhooks.reconcile("pixels", "j1")).rejects.toThrow(/within 300 ms/);
    expect(Date.now() - startedAt).toBeLessThan(1500);
  });

  test("a Content-Length over maxBytes is refused at once, before the body", async () => {
    let written = 0;
    const api = await fakeApi((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(50_000_000) });
      res.write('{"id":"gen-a"');
      written = 13;
    });
    const { webhooks } = receiver(api.url, { maxBytes: 10_000, timeoutMs: 5000 });
    const startedAt = Date.now();
    await expect(webhooks.reconcile("replicate", "gen-a")).rejects.toThrow(/over reconcile.maxBytes \(10000\)/);
    expect(Date.now() - startedAt).toBeLessThan(1000);
    expect(written).toBe(13);
  });

  test("an answer without Content-Length is cut at maxBytes, not buffered: the server is stopped early", async () => {
    const total = 200 * 1024 * 1024;
    let written = 0;
    let closed = false;
    const api = await fakeApi((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"id":"gen-a","status":"succeeded","logs":"');
      const chunk = Buffer.alloc(64 * 1024, "x");
      const pump = () => {
        while (!closed && written < total) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        if (!closed) res.end('"}');
      };
      res.on("close", () => (closed = true));
      pump();
    });
    const { webhooks } = receiver(api.url, { maxBytes: 100_000, timeoutMs: 10_000 });
    await expect(webhooks.reconcile("replicate", "gen-a")).rejects.toThrow(/over reconcile.maxBytes \(100000\)/);
    await until(() => closed);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });

  test("reconcile.maxBytes is checked at start-up", () => {
    for (const maxBytes of [0, -1, 1.5, "1mb", Infinity]) {
      expect(() =>
        createWebhooks({ providers: { replicate: { secret: SECRET, apiToken: TOKEN } }, reconcile: { maxBytes: maxBytes as number } }),
      ).toThrow("imagegen-webhooks: reconcile.maxBytes must be a positive integer number of bytes");
    }
  });
});

describe("an id cannot reshape the URL read", () => {
  test.each(PROVIDERS)("%s: empty, ., .. and overlong ids are refused before any request", async (provider) => {
    const api = await fakeApi((req, res) => json(res, 200, ANSWERS[provider](askedId(req))));
    const { webhooks } = receiver(api.url);
    for (const id of ["", ".", "..", "x".repeat(257)]) {
      await expect(webhooks.reconcile(provider, id)).rejects.toThrow(/not a generation id/);
    }
    expect(api.requests).toHaveLength(0);
  });

  test.each(PROVIDERS)("%s: an id is one path segment, whatever it holds", async (provider) => {
    const api = await fakeApi((req, res) => json(res, 404, {}));
    const { webhooks } = receiver(api.url);
    for (const id of ["../../v1/account", "a/b", "a?b#c", "%2e%2e", "x".repeat(256)]) {
      await expect(webhooks.reconcile(provider, id)).rejects.toThrow(/answered 404/);
    }
    const prefix = provider === "replicate" ? "/v1/predictions/" : "/v1/image-generations/";
    expect(api.requests.map((req) => req.url)).toEqual(
      ["..%2F..%2Fv1%2Faccount", "a%2Fb", "a%3Fb%23c", "%252e%252e", "x".repeat(256)].map((segment) => prefix + segment),
    );
  });

  test("an id from a webhook that is not one is never read back", async () => {
    const api = await fakeApi((req, res) => json(res, 200, ANSWERS.replicate(askedId(req))));
    const { webhooks } = receiver(api.url);
    await receiveOk(webhooks, "replicate", replicateDelivery("processing", { id: ".." }), SECRET);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(api.requests).toHaveLength(0);
  });
});
