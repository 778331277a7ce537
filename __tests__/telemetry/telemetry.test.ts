// Without an SDK the receiver records nothing (no telemetry object at all); with one, the counts
// other modules record through `count()` are metrics under the package's names.
import { createWebhooks } from "imagegen-webhooks";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";
import { count, createTelemetry } from "../../lib/telemetry/index";
import { countOf, installOtel } from "../helpers/otel";

test("with no SDK registered there is no telemetry, and a delivery and a count go through untouched", async () => {
  expect(createTelemetry(undefined)).toBeUndefined();
  expect(() => count(undefined, "images.kept", 3)).not.toThrow();
  const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "no-sdk-token" } } });
  const answer = await webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: "no-sdk-token" },
    rawBody: JSON.stringify(crazyhorseDelivery()),
  });
  expect(answer.status).toBe(200);
});

test("count() adds to imagegen_webhooks.<name> with the given attributes, the counter made once", async () => {
  const otel = installOtel();
  try {
    const telemetry = createTelemetry(undefined);
    expect(telemetry).toBeDefined();
    count(telemetry, "images.kept", 2, { "imagegen_webhooks.provider": "crazyhorse" });
    count(telemetry, "images.kept", 1, { "imagegen_webhooks.provider": "crazyhorse" });
    count(telemetry, "reconcile.recovered");
    const metrics = await otel.collect();
    expect(countOf(metrics, "imagegen_webhooks.images.kept", { "imagegen_webhooks.provider": "crazyhorse" })).toBe(3);
    expect(countOf(metrics, "imagegen_webhooks.reconcile.recovered", {})).toBe(1);
    expect(metrics.find((metric) => metric.descriptor.name === "imagegen_webhooks.images.kept")?.descriptor.unit).toBe("{image}");
    expect(telemetry?.counters.size).toBe(2);
  } finally {
    await otel.shutdown();
  }
});
