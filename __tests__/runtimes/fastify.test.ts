/**
 * The Fastify plugin: every delivery case over HTTP, one delivery through `inject`, and the app's
 * own JSON parser (Fastify's default, or one the app registered) untouched on its other routes.
 * Every import style of the plugin is the same function.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { AddressInfo } from "node:net";
import { createWebhooks } from "../../lib/entries/index";
import imagegenWebhooks from "../../lib/entries/fastify";
import { crazyhorseExample } from "../../lib/entries/testing";
import { expectDeliveryCases } from "./delivery-cases";
import { RECEIVER_PROVIDERS, TOKEN } from "./fixtures/receiver";

function app(register?: (app: FastifyInstance) => void): { app: FastifyInstance; emitted: () => number } {
  const webhooks = createWebhooks({
    providers: RECEIVER_PROVIDERS,
    limit: "4kb",
  });
  let emitted = 0;
  webhooks.on("*", () => void (emitted += 1));
  const fastify = Fastify();
  register?.(fastify);
  void fastify.register(imagegenWebhooks, { webhooks, prefix: "/webhooks" });
  fastify.post("/api/echo", (request) => ({ parsed: request.body }));
  return { app: fastify, emitted: () => emitted };
}

test("every import style is the plugin: default, .default and the named export", () => {
  const required = jest.requireActual<typeof import("../../lib/entries/fastify")>("../../lib/entries/fastify");
  expect(required.default).toBe(imagegenWebhooks);
  expect(required.imagegenWebhooks).toBe(imagegenWebhooks);
  expect(typeof imagegenWebhooks).toBe("function");
});

test("over HTTP: every delivery case", async () => {
  const { app: fastify, emitted } = app();
  await fastify.listen({ port: 0, host: "127.0.0.1" });
  const { port } = fastify.server.address() as AddressInfo;
  try {
    await expectDeliveryCases(
      (path, init) => fetch(`http://127.0.0.1:${port}/webhooks${path}`, init),
      () => Promise.resolve(emitted()),
    );
  } finally {
    await fastify.close();
  }
});

test("through inject: a delivery, and Fastify's default JSON parser still parses the app's own route", async () => {
  const { app: fastify, emitted } = app();
  const delivery = await fastify.inject({
    method: "POST",
    url: `/webhooks/crazyhorse?token=${TOKEN}`,
    headers: { "content-type": "application/json" },
    payload: JSON.stringify({ ...crazyhorseExample, code: "fastify-inject" }),
  });
  expect([delivery.statusCode, delivery.body, emitted()]).toEqual([200, "success", 1]);
  const echo = await fastify.inject({ method: "POST", url: "/api/echo", payload: { a: 1 } });
  expect(echo.json()).toEqual({ parsed: { a: 1 } });
  await fastify.close();
});

test("an application's own JSON parser keeps its routes; the webhook routes still get the raw bytes", async () => {
  const { app: fastify } = app((fastify) => {
    fastify.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) =>
      done(null, { own: JSON.parse(body as string) as unknown }),
    );
  });
  const echo = await fastify.inject({ method: "POST", url: "/api/echo", headers: { "content-type": "application/json" }, payload: "[1]" });
  expect(echo.json()).toEqual({ parsed: { own: [1] } });
  const delivery = await fastify.inject({
    method: "POST",
    url: `/webhooks/crazyhorse?token=${TOKEN}`,
    headers: { "content-type": "application/json" },
    payload: JSON.stringify({ ...crazyhorseExample, code: "fastify-own-parser" }),
  });
  expect(delivery.statusCode).toBe(200);
  await fastify.close();
});
