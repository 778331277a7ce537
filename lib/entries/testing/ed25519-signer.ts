import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import type { JWK } from "jose";
import type { Ed25519JwksScheme } from "../../signatures/ed25519-jwks";
import { falSignature } from "../../providers/fal";
import { ideogramSignature } from "../../providers/ideogram";

/** An Ed25519 key pair for tests: the private key to sign with, and the public key set to give `createWebhooks` as `jwks`. */
export interface Ed25519TestKeys {
  privateKey: KeyObject;
  /** The key id in `jwks` (what Ideogram sends as `X-Ideogram-Webhook-Key-Id`). */
  kid: string;
  /** `{ keys: [publicKey] }`: pass it as `providers.fal.jwks` (or `ideogram`'s). */
  jwks: { keys: JWK[] };
}

/** A fresh Ed25519 key pair, its public half as a JWKS. */
export function ed25519TestKeys(kid: string = `test-${randomUUID()}`): Ed25519TestKeys {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" }) as JWK;
  return { privateKey, kid, jwks: { keys: [{ ...jwk, kid, alg: "EdDSA", use: "sig" }] } };
}

/** What `signEd25519Delivery` signs a body with. */
export interface Ed25519SignOptions {
  /** The Ed25519 private key: a KeyObject, or PEM. */
  privateKey: KeyObject | string;
  /** The headers the provider's message names (its request or generation id, its user id), by name. */
  headers: Record<string, string>;
  /** The signing time, as a Date or Unix seconds; now by default. */
  timestamp?: Date | number;
}

/**
 * Signs a body as a provider with an Ed25519 scheme does (`fal.signature`, `ideogram.signature`, or
 * a user's own `ed25519Jwks({...})`): returns the given headers with the timestamp and the hex
 * signature added, over the message the scheme builds. Sign the exact bytes you send.
 */
export function signEd25519Delivery(
  scheme: Ed25519JwksScheme,
  body: string | Uint8Array | object,
  options: Ed25519SignOptions,
): Record<string, string> {
  const { definition } = scheme;
  const bytes = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const { timestamp = new Date() } = options;
  const seconds = typeof timestamp === "number" ? Math.floor(timestamp) : Math.floor(timestamp.getTime() / 1000);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers)) headers[name.toLowerCase()] = value;
  headers[definition.timestampHeader.toLowerCase()] = String(seconds);
  const message = definition.message({
    header: (name) => headers[name.toLowerCase()],
    bodySha256Hex: createHash("sha256").update(bytes).digest("hex"),
  });
  if (message === undefined) throw new TypeError("signEd25519Delivery: a header the provider signs is missing from options.headers");
  const key = typeof options.privateKey === "string" ? createPrivateKey(options.privateKey) : options.privateKey;
  headers[definition.signatureHeader.toLowerCase()] = sign(null, Buffer.from(message), key).toString("hex");
  return headers;
}

/** What `signFalDelivery` and `signIdeogramDelivery` sign with. */
export interface ProviderSignOptions {
  privateKey: KeyObject | string;
  /** The account the delivery is for: match your `userId` option, or test another account's refusal. */
  userId: string;
  /** The key id Ideogram names (`X-Ideogram-Webhook-Key-Id`); `ed25519TestKeys()`'s `kid`. */
  kid?: string;
  timestamp?: Date | number;
}

function bodyText(body: string | Uint8Array | object): string | Uint8Array {
  return typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
}

function field(bytes: string | Uint8Array, name: string): string {
  const value = (JSON.parse(typeof bytes === "string" ? bytes : Buffer.from(bytes).toString("utf8")) as Record<string, unknown>)[name];
  if (typeof value !== "string") throw new TypeError(`the body has no ${name} to sign under`);
  return value;
}

/** The headers fal.ai sends with a body (its `request_id` the request id), signed with your test key. */
export function signFalDelivery(body: string | Uint8Array | object, options: ProviderSignOptions): Record<string, string> {
  const bytes = bodyText(body);
  return signEd25519Delivery(falSignature, bytes, {
    privateKey: options.privateKey,
    headers: { "x-fal-webhook-request-id": field(bytes, "request_id"), "x-fal-webhook-user-id": options.userId },
    ...(options.timestamp !== undefined && { timestamp: options.timestamp }),
  });
}

/**
 * The headers Ideogram sends with a body (its `generation_id` the generation id), signed with your
 * test key under its key id (`kid`, which must be in the `jwks` you give the receiver).
 */
export function signIdeogramDelivery(
  body: string | Uint8Array | object,
  options: ProviderSignOptions & { kid: string },
): Record<string, string> {
  const bytes = bodyText(body);
  return signEd25519Delivery(ideogramSignature, bytes, {
    privateKey: options.privateKey,
    headers: {
      "x-ideogram-webhook-generation-id": field(bytes, "generation_id"),
      "x-ideogram-webhook-user-id": options.userId,
      "x-ideogram-webhook-key-id": options.kid,
    },
    ...(options.timestamp !== undefined && { timestamp: options.timestamp }),
  });
}
