/**
 * One set of delivery cases for every runtime (Node's fetch server, Hono, Fastify, Bun, Deno,
 * Workers): a valid delivery, its duplicate, a Standard Webhooks delivery signed by the
 * `standardwebhooks` package, and each refusal, with the middleware's statuses, headers and
 * problem+json bodies. `send` reaches the runtime's server at a path below its `/webhooks`.
 * expectAllowedIpsCases() does the same for `allowedIps`.
 */
import { Webhook } from "standardwebhooks";
import { crazyhorseExample, replicateExample } from "../../lib/entries/testing";
import { brotliBomb, deflateBomb } from "../helpers/bombs";
import { BAD_ALLOWED_IPS, SIGNING_SECRET, TOKEN } from "./fixtures/receiver";

export type Send = (path: string, init?: RequestInit) => Promise<Response>;

const json = { "content-type": "application/json" };

async function problem(response: Response): Promise<{ status: number; type: string; allow: string | null; errors?: unknown[] }> {
  expect(response.headers.get("content-type")).toBe("application/problem+json");
  const body = (await response.json()) as { status: number; type: string; errors?: unknown[] };
  expect(body.status).toBe(response.status);
  return { ...body, allow: response.headers.get("allow") };
}

/** Runs every case in order; `events()` reads how many deliveries the receiver emitted. */
export async function expectDeliveryCases(send: Send, events: () => Promise<number>): Promise<void> {
  const code = `rt-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const body = JSON.stringify({ ...crazyhorseExample, code });
  const valid = await send(`/crazyhorse?token=${TOKEN}`, { method: "POST", headers: json, body });
  expect(valid.status).toBe(200);
  expect(await valid.text()).toBe("success");
  expect(await events()).toBe(1);

  const duplicate = await send("/crazyhorse", { method: "POST", headers: { ...json, authorization: `Bearer ${TOKEN}` }, body });
  expect(duplicate.status).toBe(200);
  expect(await events()).toBe(1);

  const signedBody = JSON.stringify({ ...replicateExample, id: code });
  const signer = new Webhook(SIGNING_SECRET);
  const msgId = `msg_${code}`;
  const now = new Date();
  const signed = await send("/replicate", {
    method: "POST",
    headers: {
      ...json,
      "webhook-id": msgId,
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signer.sign(msgId, now, signedBody),
    },
    body: signedBody,
  });
  expect(signed.status).toBe(200);
  expect(await events()).toBe(2);

  const forged = await send("/replicate", {
    method: "POST",
    headers: {
      ...json,
      "webhook-id": "msg_forged",
      "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
      "webhook-signature": signer.sign(msgId, now, signedBody),
    },
    body: signedBody,
  });
  expect(await problem(forged)).toMatchObject({ status: 401, type: "urn:imagegen-webhooks:problem:auth.failed" });

  expect(await problem(await send("/crazyhorse", { method: "GET" }))).toMatchObject({ status: 405, allow: "POST" });
  expect(await problem(await send(`/crazyhorse?token=wrong`, { method: "POST", headers: json, body }))).toMatchObject({ status: 401 });
  expect(
    await problem(await send(`/crazyhorse?token=${TOKEN}`, { method: "POST", headers: { "content-type": "text/plain" }, body })),
  ).toMatchObject({ status: 415, type: "urn:imagegen-webhooks:problem:content-type.unsupported" });
  expect(await problem(await send(`/crazyhorse?token=${TOKEN}`, { method: "POST", headers: json, body: "{not json" }))).toMatchObject({
    status: 400,
    type: "urn:imagegen-webhooks:problem:json.malformed",
  });
  const invalid = await problem(await send(`/crazyhorse?token=${TOKEN}`, { method: "POST", headers: json, body: '{"state":7}' }));
  expect(invalid).toMatchObject({ status: 400, type: "urn:imagegen-webhooks:problem:schema.invalid" });
  expect(invalid.errors?.length).toBeGreaterThan(0);
  const large = JSON.stringify({ ...crazyhorseExample, code, padding: "x".repeat(8192) });
  expect(await problem(await send(`/crazyhorse?token=${TOKEN}`, { method: "POST", headers: json, body: large }))).toMatchObject({
    status: 413,
    type: "urn:imagegen-webhooks:problem:entity.too.large",
  });
  // Fastify answers its own 404 below its prefix; every other runtime the problem document.
  expect((await send("/nobody", { method: "POST", headers: json, body })).status).toBe(404);
  expect(await events()).toBe(2);
}

const FORBIDDEN = { type: "urn:imagegen-webhooks:problem:ip.forbidden", title: "Forbidden", status: 403, allow: null };

/**
 * `allowedIps` on a runtime, served by fixtures/receiver.ts's makeAllowedIpsHandler(); `send`
 * reaches the server's root. The runtime's own view of the peer first, then addresses sent as a
 * proxy forwards them: IPv4 and IPv6 ranges, an IPv4-mapped IPv6 sender, and the looser forms that
 * ipaddr.js would read into the range but node:net does not take for addresses.
 */
export async function expectAllowedIpsCases(send: Send, events: () => Promise<number>): Promise<void> {
  let deliveries = 0;
  const deliver = (list: string, forwardedFor?: string) =>
    send(`/ips/${list}/crazyhorse`, {
      method: "POST",
      headers: { ...json, "x-webhook-token": TOKEN, ...(forwardedFor !== undefined && { "x-forwarded-for": forwardedFor }) },
      body: JSON.stringify({ ...crazyhorseExample, code: `ip-${Date.now()}-${++deliveries}` }),
    });

  const direct = await deliver("loopback");
  expect([direct.status, await direct.text()]).toEqual([200, "success"]);
  expect(await problem(await deliver("ranges"))).toEqual(FORBIDDEN);
  for (const sender of ["203.0.113.9", "::ffff:203.0.113.10", "2001:db8:1::5"]) {
    expect([sender, (await deliver("ranges", sender)).status]).toEqual([sender, 200]);
  }
  for (const sender of ["203.0.114.1", "::ffff:203.0.114.1", "2001:db9::1", "0xcb.0.113.9", "203.0.29449", "::203.0.113.9", "nowhere"]) {
    expect([sender, await problem(await deliver("ranges", sender))]).toEqual([sender, FORBIDDEN]);
  }
  expect(await events()).toBe(4);

  const badEntry = await (await send("/ips/bad-entry")).text();
  expect(badEntry).toBe(
    `imagegen-webhooks: providers.crazyhorse.allowedIps: ${JSON.stringify(BAD_ALLOWED_IPS[1])} is not an IP address or CIDR range (e.g. "203.0.113.0/24", "2001:db8::/32")`,
  );
}

/**
 * A 2 GiB deflate (2 MB sent) or br bomb to the crazyhorse route: answered 413 without inflating it,
 * in far less time than inflating it takes (tens of seconds where each write is inflated whole).
 */
export async function expectBombRefused(send: Send, encoding: "deflate" | "br" = "deflate"): Promise<void> {
  const body = await (encoding === "br" ? brotliBomb : deflateBomb)(2048);
  const started = Date.now();
  const answer = await send(`/crazyhorse?token=${TOKEN}`, {
    method: "POST",
    headers: { ...json, "content-encoding": encoding },
    body: new Uint8Array(body),
  });
  expect(await problem(answer)).toMatchObject({ status: 413, type: "urn:imagegen-webhooks:problem:entity.too.large" });
  expect(Date.now() - started).toBeLessThan(10_000);
}
