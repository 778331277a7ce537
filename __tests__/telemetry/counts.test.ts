// The counts of the features beside the delivery path: reconciliation's read-backs and recoveries,
// and images kept or not, recorded as imagegen_webhooks.<name> by provider.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWebhooks, directoryImageStore, type Webhooks } from "imagegen-webhooks";
import { replicateDelivery } from "imagegen-webhooks/testing";
import { installOtel, pointsOf, type Otel } from "../helpers/otel";

let otel: Otel;
const servers: Server[] = [];
const receivers: Webhooks[] = [];
beforeAll(() => {
  otel = installOtel();
});
afterAll(async () => {
  await Promise.all(receivers.map((webhooks) => webhooks.close()));
  for (const server of servers) server.close();
  await otel.shutdown();
});

const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const total = async (name: string) =>
  pointsOf(await otel.collect(), `imagegen_webhooks.${name}`).reduce((sum, point) => sum + (point.value as number), 0);

test("a reconciliation counts its read-back and its recovery; images kept and not kept are counted", async () => {
  const host = await serve((req, res) => {
    if (req.url?.startsWith("/v1/predictions/")) {
      const delivery = replicateDelivery("succeeded", { id: "p1" });
      delivery.output = [`http://${host}/a.png`, `http://${host}/missing.png`];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(delivery));
    } else if (req.url === "/a.png") res.writeHead(200, { "content-type": "image/png" }).end(PNG);
    else res.writeHead(404).end();
  });
  const dir = mkdtempSync(join(tmpdir(), "counts-"));
  try {
    const webhooks = createWebhooks({
      providers: { replicate: { secret: "s", apiToken: "t", apiBaseUrl: `http://${host}` } },
      reconcile: { afterMs: 60_000, everyMs: 60_000 },
      keepImages: { store: directoryImageStore(dir), allowedHosts: [host] },
    });
    receivers.push(webhooks);
    webhooks.on("image.failed", () => {});
    await expect(webhooks.reconcile("replicate", "p1")).resolves.toEqual(expect.objectContaining({ outcome: "emitted" }));
    expect(await total("reconcile.checked")).toBe(1);
    expect(await total("reconcile.recovered")).toBe(1);
    expect(await total("images.kept")).toBe(1);
    expect(await total("images.failed")).toBe(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
