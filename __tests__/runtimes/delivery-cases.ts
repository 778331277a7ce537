/**
 * One set of delivery cases for every runtime (Node's fetch server, Hono, Bun, Deno, Workers): a
 * valid delivery, its duplicate, a Standard Webhooks delivery signed by the `standardwebhooks`
 * package, a fal.ai delivery signed with Ed25519 and a BFL one with an HMAC of the body (both signed
 * here with node:crypto over the documented message, checked there by the runtime's own crypto),
 * and each refusal, with the middleware's statuses, headers and problem+json bodies. `send` reaches
 * the runtime's server at a path below its `/webhooks`. expectAllowedIpsCases() does the same for
 * `allowedIps`.
 */
import { createHash, createHmac, createPrivateKey, sign } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { bflExample, crazyhorseExample, falExample, replicateExample } from "../../lib/entries/testing";
import { brotliBomb, deflateBomb } from "../helpers/bombs";
import { BAD_ALLOWED_IPS, BFL_SECRET, FAL_PUBLIC_JWK, FAL_USER_ID, SIGNING_SECRET, TOKEN } from "./fixtures/receiver";

/** The private half of receiver.ts's FAL_PUBLIC_JWK: a key made for these tests. */
const FAL_PRIVATE_KEY = createPrivateKey({
  key: { ...FAL_PUBLIC_JWK, d: "hfNsGGLeBWyFuiwUAHllMXqTSI8U5gtmslNAm0BOHf8" },
  format: "jwk",
});

/** fal.ai's headers for a body: Ed25519 over `request id \n user id \n timestamp \n hex(sha256(body))`. */
function falHeaders(body: string, requestId: string, userId = FAL_USER_ID): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const message = [requestId, userId, timestamp, createHash("sha256").update(body).digest("hex")].join("\n");
  return {
    "x-fal-webhook-request-id": requestId,
    "x-fal-webhook-user-id": userId,
    "x-fal-webhook-timestamp": timestamp,
    "x-fal-webhook-signature": sign(null, Buffer.from(message), FAL_PRIVATE_KEY).toString("hex"),
  };
}

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

  // Ed25519 (fal.ai, static jwks): verified with the runtime's crypto; a tampered body, another account's delivery refused.
  const falId = `fal-${code}`;
  const falBody = JSON.stringify({ ...falExample, request_id: falId, gateway_request_id: falId });
  const fal = await send("/fal", { method: "POST", headers: { ...json, ...falHeaders(falBody, falId) }, body: falBody });
  expect(fal.status).toBe(200);
  expect(await events()).toBe(3);
  const tampered = falBody.replace('"seed":', '"seed":1');
  expect(
    await problem(await send("/fal", { method: "POST", headers: { ...json, ...falHeaders(falBody, falId) }, body: tampered })),
  ).toMatchObject({
    status: 401,
    type: "urn:imagegen-webhooks:problem:auth.failed",
  });
  const otherAccount = await send("/fal", {
    method: "POST",
    headers: { ...json, ...falHeaders(falBody, falId, "someone-else") },
    body: falBody,
  });
  expect(await problem(otherAccount)).toMatchObject({ status: 401, type: "urn:imagegen-webhooks:problem:auth.wrong-account" });

  // An HMAC of the body (BFL's X-BFL-Signature: sha256=<hex>); one made with another secret refused.
  const bflBody = JSON.stringify({ ...bflExample, id: `bfl-${code}` });
  const bflSignature = (secret: string) => `sha256=${createHmac("sha256", secret).update(bflBody).digest("hex")}`;
  const bfl = await send("/bfl", { method: "POST", headers: { ...json, "x-bfl-signature": bflSignature(BFL_SECRET) }, body: bflBody });
  expect(bfl.status).toBe(200);
  expect(await events()).toBe(4);
  const bflForged = await send("/bfl", {
    method: "POST",
    headers: { ...json, "x-bfl-signature": bflSignature("not-the-secret") },
    body: bflBody,
  });
  expect(await problem(bflForged)).toMatchObject({ status: 401, type: "urn:imagegen-webhooks:problem:auth.failed" });

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
  expect(await events()).toBe(4);
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
