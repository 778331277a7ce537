import { runLoadTest } from "../bench/load-test";

// A smaller round of the load test that docs/security.md reports (bench/load-test.ts runs 20,000).
test("2,000 deliveries, 30% repeats, 50 at a time, 1% listener failures retried: each unique delivery handled exactly once", async () => {
  const result = await runLoadTest({ deliveries: 2000, repeats: 0.3, concurrency: 50, failures: 0.01, maxDelayMs: 10 });
  expect(result.unique).toBe(1400);
  expect(result.lost).toBe(0);
  expect(result.twice).toBe(0);
  // Every send ended in a 2xx, and the failures really happened (so the retries were exercised).
  expect(result.statuses[200]! + (result.statuses[202] ?? 0)).toBe(result.sends);
  expect(result.failuresInjected).toBeGreaterThan(0);
  expect(result.statuses[500]).toBe(result.failuresInjected);
}, 60_000);
