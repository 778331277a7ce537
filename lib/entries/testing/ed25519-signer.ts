import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import type { JWK } from "jose";
import type { Ed25519JwksScheme } from "../../signatures/ed25519-jwks";
import { falSignature } from "../../providers/fal";
import { ideogramSignature } from "../../providers/ideogram";
import { providers } from "../../providers/index";
import type { AnyProvider } from "../../providers/provider";
import { providerTesting, type TestedProvider } from "./provider-hooks";

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

/** The provider's Ed25519 scheme (`ed25519Jwks`), where it authenticates with one. */
export function ed25519SchemeOf(provider: AnyProvider): Ed25519JwksScheme | undefined {
  return provider.authentication.find(
    (entry): entry is Ed25519JwksScheme => typeof entry === "object" && (entry as { kind?: unknown }).kind === "ed25519-jwks",
  );
}

/** What `ed25519Signer` signs each delivery with. */
export interface Ed25519SignerOptions {
  privateKey: KeyObject | string;
  /** The account the deliveries name, where the provider names one (fal.ai, Ideogram). */
  userId?: string;
  /** The key id, where the provider sends one (Ideogram): the `kid` of the public key in the receiver's `jwks`. */
  kid?: string;
}

/**
 * For a provider that signs with Ed25519 (fal.ai, Ideogram, a user's `ed25519Jwks` provider with
 * `testing.signedHeaders`): the function that makes its headers from the exact bytes sent, for
 * `sendDelivery`'s and `playJob`'s `sign`. Undefined for a provider that signs otherwise. Throws,
 * saying what is missing, when the provider's message needs an account or a key id not given.
 */
export function ed25519Signer(
  provider: TestedProvider,
  options: Ed25519SignerOptions,
): ((rawBody: string | Uint8Array) => Record<string, string>) | undefined {
  const { name, testing } = providerTesting(provider, "ed25519Signer");
  // providerTesting() has refused a name that is not built in.
  const scheme = ed25519SchemeOf(typeof provider === "string" ? providers[provider] : provider);
  if (scheme === undefined) return undefined;
  const { userIdHeader, keyIdHeader } = scheme.definition;
  if (testing.signedHeaders === undefined) {
    throw new TypeError(`ed25519Signer: provider "${name}" has no testing.signedHeaders: add it to say which headers name a delivery`);
  }
  if (userIdHeader !== undefined && !options.userId)
    throw new TypeError(`ed25519Signer: ${name}'s deliveries name an account: give userId`);
  if (keyIdHeader !== undefined && !options.kid) throw new TypeError(`ed25519Signer: ${name}'s deliveries name their key: give kid`);
  return (rawBody) => {
    const text = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
    return signEd25519Delivery(scheme, rawBody, {
      privateKey: options.privateKey,
      headers: {
        ...testing.signedHeaders!(JSON.parse(text) as unknown),
        ...(userIdHeader !== undefined && { [userIdHeader]: options.userId as string }),
        ...(keyIdHeader !== undefined && { [keyIdHeader]: options.kid as string }),
      },
    });
  };
}
