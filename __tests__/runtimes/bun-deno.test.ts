/**
 * Bun and Deno, each the binary its npm package ships, serving the receiver over HTTP: Bun the main
 * entry (through its Node compatibility: node:crypto, synchronous), Deno the web entry (Web Crypto);
 * then both the web entry's `allowedIps`, with the address each runtime gives for the connection.
 */
import { bundle } from "./bundle";
import { expectAllowedIpsCases, expectBombRefused, expectDeliveryCases } from "./delivery-cases";
import { runtimeBinary, startRuntime, type RuntimeServer } from "./runtime-process";

const HANDLER = `
import { createWebhooks } from "imagegen-webhooks";
import { makeHandler } from "./receiver";
const handle = makeHandler(createWebhooks);
`;

const ALLOWED_IPS_HANDLER = `
import { createWebhooks } from "imagegen-webhooks";
import { makeAllowedIpsHandler } from "./receiver";
const handle = makeAllowedIpsHandler(createWebhooks);
`;

async function runCases(server: RuntimeServer, cases = expectDeliveryCases, base = "/webhooks"): Promise<void> {
  try {
    await cases(
      (path, init) => fetch(`${server.url}${base}${path}`, init),
      async () => Number(await (await fetch(`${server.url}/events`)).text()),
    );
  } finally {
    await server.stop();
  }
}

const startBun = (code: string) => startRuntime(runtimeBinary("bun"), (script) => ["run", script], code);
const startDeno = (code: string) =>
  startRuntime(runtimeBinary("deno"), (script) => ["run", "--allow-net=127.0.0.1", "--no-prompt", script], code);

test("Bun serves the main entry with Bun.serve and answers every delivery case", async () => {
  const { code } = await bundle(
    "main",
    `${HANDLER}
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => handle(request) });
    console.log("listening " + server.port);`,
  );
  await runCases(await startBun(code));
}, 30_000);

test("Deno serves the web entry with Deno.serve and answers every delivery case", async () => {
  const { code } = await bundle(
    "web",
    `${HANDLER}
    Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log("listening " + port) }, (request) => handle(request));`,
  );
  await runCases(await startDeno(code));
}, 30_000);

test("Bun: the web entry's allowedIps, with server.requestIP(request) as fetch()'s `ip`", async () => {
  const { code } = await bundle(
    "web",
    `${ALLOWED_IPS_HANDLER}
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request, server) => handle(request, server.requestIP(request)?.address) });
    console.log("listening " + server.port);`,
  );
  await runCases(await startBun(code), expectAllowedIpsCases, "");
}, 30_000);

test("Deno: the web entry's allowedIps, with Deno.serve's info.remoteAddr as fetch()'s `ip`", async () => {
  const { code } = await bundle(
    "web",
    `${ALLOWED_IPS_HANDLER}
    Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log("listening " + port) },
      (request, info) => handle(request, info.remoteAddr.hostname),
    );`,
  );
  await runCases(await startDeno(code), expectAllowedIpsCases, "");
}, 30_000);

test.each([
  [
    "Bun",
    "main",
    startBun,
    `const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => handle(request) });
    console.log("listening " + server.port);`,
  ],
  [
    "Deno",
    "web",
    startDeno,
    `Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log("listening " + port) }, (request) => handle(request));`,
  ],
] as const)(
  "%s (the %s entry): a deflate bomb, and on the main entry a br one, is answered 413 without being inflated",
  async (_runtime, entry, start, serve) => {
    const { code } = await bundle(entry, `${HANDLER}\n    ${serve}`);
    const server = await start(code);
    try {
      const send = (path: string, init?: RequestInit) => fetch(`${server.url}/webhooks${path}`, init);
      await expectBombRefused(send);
      // The main entry inflates br with node:zlib, through Bun's Node compatibility.
      if (entry === "main") await expectBombRefused(send, "br");
    } finally {
      await server.stop();
    }
  },
  60_000,
);
