/**
 * webhooks.fetch() on Node: served by Node's http server through @hono/node-server's
 * Request/Response bridge, with the main entry (node:crypto) and with the web entry (Web Crypto);
 * in a Hono app; through a Next.js route handler's exported POST; its waitUntil and inbox modes; and
 * `allowedIps` with the address passed beside the request.
 */
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { serve, type Http2Bindings, type HttpBindings, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhooks, type Inbox, type StoredDelivery } from "../../lib/entries/index";
import { crazyhorseExample } from "../../lib/entries/testing";
import { createWebhooks as createWebWebhooks } from "../../lib/entries/web";
import { expectAllowedIpsCases, expectDeliveryCases } from "./delivery-cases";
import { makeAllowedIpsHandler, makeHandler, TOKEN } from "./fixtures/receiver";

type NodeFetch = (request: Request, env: HttpBindings | Http2Bindings) => Response | Promise<Response>;

async function listen(fetch: NodeFetch): Promise<{ url: string; close: () => Promise<void> }> {
  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function casesOver(fetchHandler: (request: Request) => Response | Promise<Response>, base = "/webhooks"): Promise<void> {
  const server = await listen(fetchHandler);
  try {
    await expectDeliveryCases(
      (path, init) => fetch(`${server.url}${base}${path}`, init),
      async () => Number(await (await fetch(`${server.url}/events`)).text()),
    );
  } finally {
    await server.close();
  }
}

const deliveryInit = (code: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", "x-webhook-token": TOKEN },
  body: JSON.stringify({ ...crazyhorseExample, code }),
});

test("Node's http server, the main entry (node:crypto): every delivery case", async () => {
  await casesOver(makeHandler(createWebhooks));
});

test("Node's http server, the web entry (Web Crypto): every delivery case", async () => {
  await casesOver(makeHandler(createWebWebhooks));
});

test("Hono on @hono/node-server, mounted below /webhooks: every delivery case", async () => {
  const handle = makeHandler(createWebhooks);
  const app = new Hono();
  app.get("/events", (c) => handle(c.req.raw));
  app.all("/webhooks/*", (c) => handle(c.req.raw));
  app.get("/health", (c) => c.text("ok"));
  await casesOver((request) => app.fetch(request));
});

test.each([
  ["main", createWebhooks],
  ["web", createWebWebhooks],
])("allowedIps, the %s entry: the socket's address, or one forwarded, passed as fetch()'s `ip`", async (_entry, create) => {
  const handle = makeAllowedIpsHandler(create);
  const server = await listen((request, env) => handle(request, env.incoming.socket.remoteAddress));
  try {
    await expectAllowedIpsCases(
      (path, init) => fetch(`${server.url}${path}`, init),
      async () => Number(await (await fetch(`${server.url}/events`)).text()),
    );
  } finally {
    await server.close();
  }
});

test("allowedIps: the web entry refuses a sender outside, or no `ip` at all, with the very answer the middleware gives", async () => {
  const options = { providers: { crazyhorse: { secret: TOKEN, allowedIps: ["203.0.113.0/24"] } } };
  const middleware = createServer(createWebhooks(options).middleware());
  await new Promise<void>((resolve) => middleware.listen(0, "127.0.0.1", resolve));
  const { port } = middleware.address() as AddressInfo;
  const read = async (answer: Response) => ({
    status: answer.status,
    type: answer.headers.get("content-type"),
    body: await answer.text(),
  });
  try {
    const expected = await read(await fetch(`http://127.0.0.1:${port}/crazyhorse`, deliveryInit("ip-middleware")));
    expect(expected).toMatchObject({ status: 403, type: "application/problem+json" });
    const webhooks = createWebWebhooks(options);
    const outside = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-outside")), { ip: "127.0.0.1" });
    expect(await read(outside)).toEqual(expected);
    const unknown = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-unknown")));
    expect(await read(unknown)).toEqual(expected);
    const inside = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-inside")), { ip: "203.0.113.7" });
    expect(inside.status).toBe(200);
  } finally {
    await new Promise((resolve) => middleware.close(resolve));
  }
});

test.each([
  ["the main entry", createWebhooks],
  ["the web entry", createWebWebhooks],
])("allowedIps with no `ip` passed to fetch(), %s: said once, naming the fix; with `ip`, nothing is said", async (_entry, create) => {
  const warn = jest.fn();
  const logger = { debug: jest.fn(), info: jest.fn(), warn, error: jest.fn() };
  const webhooks = create({ providers: { crazyhorse: { secret: TOKEN, allowedIps: ["203.0.113.0/24"] } }, logger });
  const inside = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-given")), { ip: "203.0.113.7" });
  expect([inside.status, warn.mock.calls.length]).toEqual([200, 0]);
  for (const id of ["ip-missing-1", "ip-missing-2"]) {
    expect((await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit(id)))).status).toBe(403);
  }
  expect(warn.mock.calls).toEqual([
    [{}, expect.stringContaining("providers.crazyhorse.allowedIps is set, but webhooks.fetch() was given no `ip`")],
  ]);
  expect(warn.mock.calls[0]![1]).toContain("webhooks.fetch(request, { ip })");
});

test("with no logger set, the missing `ip` is a process warning, as the middleware's setup mistakes are", async () => {
  const webhooks = createWebWebhooks({ providers: { crazyhorse: { secret: TOKEN, allowedIps: ["203.0.113.0/24"] } } });
  const warnings = jest.spyOn(process, "emitWarning").mockImplementation(() => {});
  try {
    await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-silent-1")));
    await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("ip-silent-2")));
    expect(warnings.mock.calls).toEqual([
      [expect.stringContaining("was given no `ip`"), { type: "ImagegenWebhooksWarning", code: "IMAGEGEN_WEBHOOKS_SETUP" }],
    ]);
  } finally {
    warnings.mockRestore();
  }
});

test("a Next.js route handler's POST, given a web Request and the route's params", async () => {
  process.env.CRAZYHORSE_WEBHOOK_SECRET = TOKEN;
  // Loaded once the route's environment is set, as Next.js loads a route module on its first request.
  const { POST, completed } = jest.requireActual<typeof import("./fixtures/next-route")>("./fixtures/next-route");
  const request = new Request("https://app.example/api/webhooks/crazyhorse", deliveryInit("next-1"));
  const answer = await POST(request, { params: Promise.resolve({ provider: "crazyhorse" }) });
  expect([answer.status, await answer.text(), completed]).toEqual([200, "success", ["next-1"]]);
  const unknown = await POST(new Request("https://app.example/api/webhooks/nobody", deliveryInit("next-2")), {
    params: Promise.resolve({ provider: "nobody" }),
  });
  expect(unknown.status).toBe(404);
});

test("a body already read is a 500 that says so, never a delivery checked against nothing", async () => {
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } } });
  const request = new Request("https://app.example/crazyhorse", deliveryInit("read-1"));
  await request.text();
  const answer = await webhooks.fetch(request);
  expect(answer.status).toBe(500);
  expect(await answer.json()).toMatchObject({ type: "urn:imagegen-webhooks:problem:body.unavailable" });
});

test.each([
  ["gzip", (text: string) => gzipSync(text)],
  ["deflate", (text: string) => deflateSync(text)],
  ["br", (text: string) => brotliCompressSync(text)],
])("a %s body is inflated and capped after inflating, as the middleware does", async (encoding, compress) => {
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, limit: "2kb" });
  const emitted: string[] = [];
  webhooks.on("crazyhorse.done", (event) => void emitted.push(event.id));
  const send = (body: Uint8Array, contentEncoding = encoding) =>
    webhooks.fetch(
      new Request("https://app.example/crazyhorse", {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": contentEncoding, "x-webhook-token": TOKEN },
        body,
      }),
    );
  expect((await send(compress(JSON.stringify({ ...crazyhorseExample, code: `${encoding}-1` })))).status).toBe(200);
  expect((await send(compress(JSON.stringify({ ...crazyhorseExample, code: `${encoding}-2`, pad: "x".repeat(10_000) })))).status).toBe(413);
  // Bytes that do not inflate are the sender's mistake, a 400, never a 500 to retry forever.
  expect((await send(new TextEncoder().encode(JSON.stringify({ ...crazyhorseExample, code: `${encoding}-3` })))).status).toBe(400);
  expect((await send(compress("{}"), "compress")).status).toBe(415);
  expect(emitted).toEqual([`${encoding}-1:done`]);
});

test("the web entry, for runtimes with no brotli: a br body is a 415 encoding.unsupported, and nothing is emitted", async () => {
  const webhooks = createWebWebhooks({ providers: { crazyhorse: { secret: TOKEN } } });
  const emitted = jest.fn();
  webhooks.on("crazyhorse.done", emitted);
  const answer = await webhooks.fetch(
    new Request("https://app.example/crazyhorse", {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "br", "x-webhook-token": TOKEN },
      body: brotliCompressSync(JSON.stringify({ ...crazyhorseExample, code: "br-web" })),
    }),
  );
  expect(answer.status).toBe(415);
  expect(await answer.json()).toMatchObject({ type: "urn:imagegen-webhooks:problem:encoding.unsupported" });
  expect(emitted).not.toHaveBeenCalled();
});

test("waitUntil: listeners past handlerTimeoutMs are answered 202 and handed to the platform, which sees them finish", async () => {
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, handlerTimeoutMs: 20 });
  let finished = false;
  webhooks.on("crazyhorse.done", async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    finished = true;
  });
  const handedOver: Promise<unknown>[] = [];
  const answer = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("slow-1")), {
    waitUntil: (work) => void handedOver.push(work),
  });
  expect(answer.status).toBe(202);
  expect([handedOver.length, finished]).toEqual([1, false]);
  await handedOver[0];
  expect(finished).toBe(true);
});

test("inbox mode from fetch: the delivery is stored and answered, the listeners do not run at the edge", async () => {
  const stored = new Map<string, StoredDelivery>();
  const inbox = {
    enqueue: (delivery: StoredDelivery) => {
      if (stored.has(delivery.key)) return Promise.resolve("duplicate" as const);
      stored.set(delivery.key, delivery);
      return Promise.resolve("stored" as const);
    },
    startWorker: () => Promise.reject(new Error("not in this test")),
    list: () => Promise.resolve([]),
    get: () => Promise.resolve(undefined),
    replay: () => Promise.resolve(false),
    close: () => Promise.resolve(),
  } as unknown as Inbox;
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: TOKEN } }, inbox });
  const listener = jest.fn();
  webhooks.on("*", listener);
  const first = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("inbox-1")));
  const again = await webhooks.fetch(new Request("https://app.example/crazyhorse", deliveryInit("inbox-1")));
  expect([first.status, await first.text(), again.status]).toEqual([200, "success", 200]);
  expect([...stored.keys()]).toEqual([expect.stringMatching(/^crazyhorse:inbox-1/)]);
  expect(listener).not.toHaveBeenCalled();
});
