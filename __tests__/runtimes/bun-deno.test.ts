/**
 * Bun and Deno, each the binary its npm package ships, serving the receiver over HTTP: Bun the main
 * entry (through its Node compatibility: node:crypto, synchronous), Deno the web entry (Web Crypto).
 */
import { bundle } from "./bundle";
import { expectDeliveryCases } from "./delivery-cases";
import { runtimeBinary, startRuntime, type RuntimeServer } from "./runtime-process";

const HANDLER = `
import { createWebhooks } from "imagegen-webhooks";
import { makeHandler } from "./receiver";
const handle = makeHandler(createWebhooks);
`;

async function runCases(server: RuntimeServer): Promise<void> {
  try {
    await expectDeliveryCases(
      (path, init) => fetch(`${server.url}/webhooks${path}`, init),
      async () => Number(await (await fetch(`${server.url}/events`)).text()),
    );
  } finally {
    await server.stop();
  }
}

test("Bun serves the main entry with Bun.serve and answers every delivery case", async () => {
  const { code } = await bundle(
    "main",
    `${HANDLER}
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => handle(request) });
    console.log("listening " + server.port);`,
  );
  await runCases(await startRuntime(runtimeBinary("bun"), (script) => ["run", script], code));
}, 30_000);

test("Deno serves the web entry with Deno.serve and answers every delivery case", async () => {
  const { code } = await bundle(
    "web",
    `${HANDLER}
    Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: ({ port }) => console.log("listening " + port) }, (request) => handle(request));`,
  );
  await runCases(await startRuntime(runtimeBinary("deno"), (script) => ["run", "--allow-net=127.0.0.1", "--no-prompt", script], code));
}, 30_000);
