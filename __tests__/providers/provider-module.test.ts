// A provider is one module: added to a list of providers (here `customProviders`, as a built-in one
// is added to BUILT_IN in lib/providers/index.ts), it gets its route, its options, its API credential,
// its CLI help and its testing hooks, with no other file of the package knowing its name.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import request from "supertest";
import { main } from "../../lib/cli/index";
import { createWebhooks, type Webhooks } from "../../lib/entries/index";
import { buildDelivery, simulatedProviders, simulateJob } from "../../lib/entries/testing/index";
import { providers } from "../../lib/providers/index";
import { inkwell } from "../fixtures/inkwell-provider";

const list = [inkwell] as const;
const receivers: Webhooks<never>[] = [];
const servers: ReturnType<typeof createServer>[] = [];

afterAll(async () => {
  await Promise.all(receivers.map((webhooks) => webhooks.close()));
  for (const server of servers) server.close();
});

test("its route and its options: a delivery to /inkwell with its token fires its events", async () => {
  const webhooks = createWebhooks({ customProviders: list, providers: { inkwell: { secret: "ink-secret" } } });
  receivers.push(webhooks);
  const fired: string[] = [];
  webhooks.on("inkwell.dry", (event) => void fired.push(`${event.name}:${event.generation.status}`));
  const app = express().use("/webhooks", webhooks.middleware());
  const delivery = buildDelivery(inkwell, { job: "job_1" });
  const res = await request(app).post("/webhooks/inkwell?token=ink-secret").type("json").send(JSON.stringify(delivery));
  expect(res.status).toBe(200);
  expect(fired).toEqual(["inkwell.dry:completed"]);
  expect((await request(app).post("/webhooks/inkwell?token=wrong").type("json").send(JSON.stringify(delivery))).status).toBe(401);
});

test("its credential: read from the option it declares, sent in the header it declares; the other option is refused", async () => {
  const seen: IncomingHttpHeaders[] = [];
  const api = createServer((req, res) => {
    seen.push(req.headers);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ delivery: "dl_api", job: "job_7", phase: "dry", images: ["https://cdn.inkwell.example/7.png"] }));
  });
  servers.push(api);
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
  const apiBaseUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  const webhooks = createWebhooks({ customProviders: list, providers: { inkwell: { secret: "s", apiKey: "ink-key", apiBaseUrl } } });
  receivers.push(webhooks);
  await expect(webhooks.reconcile("inkwell", "job_7")).resolves.toEqual({
    provider: "inkwell",
    id: "job_7",
    status: "completed",
    outcome: "emitted",
  });
  expect(seen.map((headers) => headers["x-inkwell-key"])).toEqual(["Key ink-key"]);

  expect(() => createWebhooks({ customProviders: list, providers: { inkwell: { secret: "s", apiToken: "t" } } })).toThrow(
    "provider inkwell takes its API credential as apiKey, not apiToken: set providers.inkwell.apiKey",
  );
  expect(() => createWebhooks({ customProviders: list, providers: { inkwell: { secret: "s" } }, reconcile: {} })).toThrow(
    /reconcile needs a provider it can read back: set providers\.inkwell\.apiKey$/,
  );
});

test("its CLI help and its testing hooks", async () => {
  const chunks: string[] = [];
  const out = { write: (chunk: string) => void chunks.push(chunk) } as unknown as NodeJS.WritableStream;
  expect(await main(["--help"], out, { customProviders: list })).toBe(0);
  const help = chunks.join("").replace(/\s+/g, " ");
  expect(help).toContain(
    "Providers: crazyhorse, all-images, replicate, leonardo, bfl, openai, fal, ideogram, inkwell (simulate: crazyhorse, all-images, replicate, leonardo, bfl, openai, fal, ideogram, inkwell)",
  );
  expect(help).toContain("or inkwell's phase (inking, dry, smudged).");

  expect(buildDelivery(inkwell, { phase: "inking" })).toEqual(expect.objectContaining({ phase: "inking", job: expect.any(String) }));
  const job = simulateJob(inkwell, { seed: 1 });
  expect(job.deliveries.map((delivery) => delivery.event)).toEqual(expect.arrayContaining(["inking"]));

  // The built-in ones the same way, from their one list: the record by each one's own name, in the
  // list's order, the CLI's lists and the testing hooks (found by the name) follow from it.
  const builtIn = Object.keys(providers);
  expect(Object.entries(providers).map(([key, provider]) => provider.name === key)).toEqual(builtIn.map(() => true));
  expect(simulatedProviders).toEqual(builtIn);
  expect(help).toContain(`Providers: ${builtIn.join(", ")}, inkwell`);
  for (const name of simulatedProviders) expect(simulateJob(name, { seed: 1 }).deliveries.length).toBeGreaterThan(0);
});
