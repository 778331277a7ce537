// The example app's Generate button: POST /generate creates a prediction through the fake Replicate
// API the app serves, tracks it with metadata and answers once generations.wait() resolves; with
// the outcome whose only webhook is lost, reconciliation recovers it from the track alone.
import { serveExampleApp, type ServedExampleApp } from "../helpers/example-app";

jest.setTimeout(30_000);

let served: ServedExampleApp | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
});

function serve(reconcile: boolean): Promise<ServedExampleApp> {
  return serveExampleApp((url) => ({
    crazyhorseSecret: "demo-crazyhorse-secret",
    allImagesSecret: "demo-all-images-secret",
    imageBaseUrl: `${url}/storage/`,
    simulationTimeScale: 0.01,
    ...(reconcile && { reconcile: { origin: url, afterMs: 300, everyMs: 50 } }),
  }));
}

interface Generated {
  waitedMs: number;
  generation: { id: string; status: string; origin: string; images: unknown[]; metadata: Record<string, unknown> };
}

test("Generate: the request waits for the prediction it started, and answers with its metadata, heard of by webhook", async () => {
  served = await serve(true);
  const origins: string[] = [];
  served.demo.webhooks.on("generation.completed", (event) => void origins.push(`${event.origin}:${String(event.metadata?.requestedBy)}`));
  const response = await fetch(`${served.url}/generate`, { method: "POST" });
  expect(response.status).toBe(200);
  const { generation } = (await response.json()) as Generated;
  expect(generation).toEqual(
    expect.objectContaining({
      status: "completed",
      origin: "webhook",
      metadata: expect.objectContaining({ requestedBy: "the demo page" }),
    }),
  );
  expect(generation.images.length).toBeGreaterThan(0);
  expect(origins).toEqual(["webhook:the demo page"]);
  await expect(served.demo.webhooks.generations.get("replicate", generation.id)).resolves.toEqual(
    expect.objectContaining({ status: "completed" }),
  );
});

test("Generate with its only webhook lost: recovered by reconciliation from the track alone", async () => {
  served = await serve(true);
  const started = Date.now();
  const response = await fetch(`${served.url}/generate?outcome=lost`, { method: "POST" });
  expect(response.status).toBe(200);
  const { generation } = (await response.json()) as Generated;
  expect(generation).toEqual(expect.objectContaining({ status: "completed", origin: "reconciled" }));
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
});

test("the fake API refuses a create call without its token, and no Generate is served without reconcile", async () => {
  served = await serve(true);
  const refused = await fetch(`${served.url}/fake-replicate/v1/predictions`, { method: "POST" });
  expect(refused.status).toBe(401);
  await served.close();
  served = await serve(false);
  expect((await fetch(`${served.url}/generate`, { method: "POST" })).status).toBe(404);
});
