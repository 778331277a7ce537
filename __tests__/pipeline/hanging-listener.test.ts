// A listener that never settles, without an inbox: close({ timeoutMs }) resolves by its deadline
// whatever the listeners do, aborts their event.signal then (not at the 202 of handlerTimeoutMs,
// past which they are meant to go on) and names the deliveries it left; a listener that passed
// the signal to fetch() stops with it.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhooks, type Logger, type Webhooks } from "imagegen-webhooks";
import { crazyhorseDelivery } from "imagegen-webhooks/testing";

const SECRET = "crazyhorse-secret-for-the-hanging-listener-test";
const never = () => new Promise<never>(() => {});

function capture() {
  const warnings: [object, string | undefined][] = [];
  const noop = () => {};
  const logger: Logger = { debug: noop, info: noop, warn: (obj, msg) => void warnings.push([obj, msg]), error: noop };
  return { logger, warnings };
}

function receiver(logger: Logger): Webhooks {
  return createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, handlerTimeoutMs: 50, logger });
}

function send(webhooks: Webhooks, code: string) {
  return webhooks.receive({
    provider: "crazyhorse",
    headers: { "content-type": "application/json" },
    query: { token: SECRET },
    rawBody: JSON.stringify(crazyhorseDelivery({ state: "DONE", code })),
  });
}

/** `promise`, or a rejection saying it was still pending after `ms`: a close() that never resolves fails the test, not jest's timeout. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

test("close({ timeoutMs }) with a listener that never settles: resolves by its deadline, aborts its event.signal then, and names the delivery it left", async () => {
  const { logger, warnings } = capture();
  const webhooks = receiver(logger);
  const signals: AbortSignal[] = [];
  webhooks.on("generation.completed", (event) => {
    signals.push(event.signal);
    return never();
  });
  expect((await send(webhooks, "hung1")).status).toBe(202);
  // Past handlerTimeoutMs the listeners go on after the 202: their signal is not aborted for it.
  expect(signals[0]?.aborted).toBe(false);

  const startedAt = performance.now();
  await within(webhooks.close({ timeoutMs: 200 }), 5000);
  const tookMs = performance.now() - startedAt;
  expect(tookMs).toBeGreaterThanOrEqual(190);
  expect(tookMs).toBeLessThan(1000);
  expect(signals[0]?.aborted).toBe(true);
  expect(signals[0]?.reason).toMatchObject({ name: "AbortError" });
  expect(warnings.filter(([line]) => "left" in line)).toEqual([
    [{ left: ["crazyhorse:hung1:done"], timeoutMs: 200 }, expect.stringContaining("close() stopped waiting for the listeners")],
  ]);
});

test("close() stops waiting for a listener still before its answer too, and a listener that passed event.signal to fetch() stops", async () => {
  // A server that takes the request and never answers.
  const held: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => void held.push(res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const { logger, warnings } = capture();
    const webhooks = createWebhooks({ providers: { crazyhorse: { secret: SECRET } }, handlerTimeoutMs: 60_000, logger });
    let fetched: unknown;
    webhooks.on("generation.completed", async (event) => {
      try {
        await fetch(url, { signal: event.signal });
      } catch (err) {
        fetched = err;
        throw err;
      }
    });
    const errors: unknown[] = [];
    webhooks.on("error", (err) => void errors.push(err));
    const answer = send(webhooks, "fetching");
    while (held.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    await within(webhooks.close({ timeoutMs: 100 }), 5000);
    expect(warnings).toEqual([[{ left: ["crazyhorse:fetching:done"], timeoutMs: 100 }, expect.any(String)]]);
    // The fetch ends with the signal, and the delivery is answered as a failed listener: the provider retries it.
    expect((await within(answer, 5000)).status).toBe(500);
    expect(fetched).toMatchObject({ name: "AbortError" });
    expect(errors).toHaveLength(1);
  } finally {
    for (const res of held) res.destroy();
    server.close();
  }
});

test("every event has its own event.signal, not aborted, for synchronous listeners too; close() with nothing running logs nothing", async () => {
  const { logger, warnings } = capture();
  const webhooks = receiver(logger);
  const signals: AbortSignal[] = [];
  webhooks.on("crazyhorse.done", (event) => void signals.push(event.signal));
  webhooks.on("*", (event) => void signals.push(event.signal));
  await send(webhooks, "a");
  await send(webhooks, "b");
  expect(signals).toHaveLength(4);
  for (const signal of signals) {
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal.aborted).toBe(false);
  }
  expect(signals[0]).toBe(signals[1]); // one run's listeners share it
  expect(signals[0]).not.toBe(signals[2]);
  await within(webhooks.close({ timeoutMs: 100 }), 5000);
  expect(warnings).toEqual([]);
  expect(signals.some((signal) => signal.aborted)).toBe(false);
});

test("close({ timeoutMs }) takes a number of milliseconds ≥ 0", async () => {
  const webhooks = receiver(capture().logger);
  await expect(webhooks.close({ timeoutMs: -1 })).rejects.toThrow(/close: timeoutMs must be a number of milliseconds ≥ 0, got -1/);
  await expect(webhooks.close({ timeoutMs: "5s" as unknown as number })).rejects.toThrow(/got 5s/);
  await webhooks.close({ timeoutMs: 0 });
});
