import { createLocalJWKSet, createRemoteJWKSet, errors, type JWK } from "jose";
import type { Crypto } from "../crypto/crypto";
import { getHeader, type HeadersInput } from "../http/headers";
import { isThenable } from "../async/thenable";
import { bytesToHex, hexToBytes } from "./hmac-signature";
import { DEFAULT_TOLERANCE_SECONDS, SignatureRejection, type SignatureScheme, type SignatureVerifier } from "./scheme";
import { ConfigError } from "../options/checks";

// Ed25519 over a message the provider builds from a delivery, with public keys published as a
// JWKS (fal.ai, Ideogram). The keys are jose's: createRemoteJWKSet fetches and caches them with its
// defaults (kept 10 minutes, fetched at most once every 30 s, 5 s to answer); there is no cache here.

/** What a message builder sees of a delivery. */
export interface SignedDelivery {
  /** A request header's value, `undefined` when absent. */
  header(name: string): string | undefined;
  /** SHA-256 of the raw body, lower-case hex. */
  bodySha256Hex: string;
}

/** What a provider declares: where its signature, timestamp, account and key id are, and what it signs. */
export interface Ed25519JwksDefinition {
  /** The provider's published key set: the default of a deployment's `jwksUrl`. */
  jwksUrl: string;
  /** The header holding the signature, hex (64 bytes). */
  signatureHeader: string;
  /** The header holding the signing time, unix seconds; checked both ways against `toleranceSeconds`. */
  timestampHeader: string;
  /** The header naming the account the delivery is for: what a deployment's `userId` is checked against. */
  userIdHeader?: string;
  /** The header naming the signing key (`kid`), where the provider sends one. Without it, every key is tried. */
  keyIdHeader?: string;
  /** The signed message; `undefined` when a header it needs is missing (the delivery is refused). */
  message: (delivery: SignedDelivery) => string | undefined;
  /** How far the timestamp may be from now, either way. Default 300. */
  toleranceSeconds?: number;
}

/** What a deployment configures (fal.ai's and Ideogram's options). */
export interface Ed25519JwksOptions {
  /** Where the keys are; default the provider's. https, except on a loopback host (tests). */
  jwksUrl?: string;
  /** The keys themselves, instead of fetching them: for tests, and for deployments that cannot reach the provider. */
  jwks?: { keys: readonly JWK[] };
  /** Your account at the provider: a delivery signed for another account is refused (`auth.wrong-account`). */
  userId?: string;
}

export interface Ed25519JwksScheme extends SignatureScheme {
  readonly kind: "ed25519-jwks";
  readonly definition: Readonly<Ed25519JwksDefinition>;
  /**
   * The verifier for one deployment's options. Throws a `ConfigError` saying what to change for a
   * `jwksUrl` that is not https (outside loopback), `jwks` that are not Ed25519 public keys, both
   * given, or a `userId` for a provider that names no account.
   */
  createVerifier(options: Ed25519JwksOptions, crypto: Crypto): SignatureVerifier;
  /** Without `userId` (where the provider names the account): any of the provider's customers can deliver here. */
  startupWarning(options: Ed25519JwksOptions, providerName: string): string | undefined;
}

/** A delivery's keys were not to be had: the provider's JWKS did not answer, or not with keys. */
export const KEYS_RETRY_AFTER_SECONDS = "30";
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
/** An Ed25519 signature is 64 bytes: 128 hex digits. */
const HEX_SIGNATURE = /^[0-9a-f]{128}$/i;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
/** jose's JWS names for Ed25519: the registered one, and the fully specified one newer sets use. */
const ALGORITHMS = ["EdDSA", "Ed25519"] as const;
const encoder = new TextEncoder();

type KeySet = (header: { alg: string; kid?: string }) => Promise<unknown>;
type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * A builder for the message fal.ai and Ideogram sign: the named headers' values, then the hex
 * SHA-256 of the raw body, one per line (`id \n user id \n timestamp \n sha256`).
 */
export function signedLines(headerNames: readonly string[]): (delivery: SignedDelivery) => string | undefined {
  const names = headerNames.map((name) => name.toLowerCase());
  return (delivery) => {
    const lines: string[] = [];
    for (const name of names) {
      const value = delivery.header(name);
      if (value === undefined || value.length === 0) return undefined;
      lines.push(value);
    }
    lines.push(delivery.bodySha256Hex);
    return lines.join("\n");
  };
}

/** The 503 to answer: the reason names jose's error or the network's, never a key or the body. */
function keysUnavailable(cause: unknown): SignatureRejection {
  const reason =
    cause instanceof errors.JOSEError
      ? cause.message
      : typeof (cause as { code?: unknown })?.code === "string"
        ? (cause as { code: string }).code
        : "the key set could not be fetched";
  return new SignatureRejection("keys.unavailable", {
    headers: { "retry-after": KEYS_RETRY_AFTER_SECONDS },
    detail: `the provider's signing keys are unavailable: ${reason}`,
  });
}

function checkJwksUrl(value: unknown): URL {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    url = undefined;
  }
  if (typeof value !== "string" || !url)
    throw new ConfigError(`jwksUrl must be an https URL, e.g. "https://example.com/.well-known/jwks.json"`, "");
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.test(url.hostname))) return url;
  throw new ConfigError(`jwksUrl must be https (plain http only on a loopback host, for tests): ${url.protocol}//${url.host} is not`, "");
}

function checkJwks(jwks: unknown): { keys: JWK[] } {
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (typeof jwks !== "object" || jwks === null || !Array.isArray(keys) || keys.length === 0) {
    throw new ConfigError(`jwks must be a key set, { keys: [{ kty: "OKP", crv: "Ed25519", x: "…" }] }`, "");
  }
  keys.forEach((key: unknown, i) => {
    const { kty, crv, x, d } = (typeof key === "object" && key !== null ? key : {}) as Record<string, unknown>;
    if (kty !== "OKP" || crv !== "Ed25519" || typeof x !== "string") {
      throw new ConfigError(`jwks.keys[${i}] must be an Ed25519 public key, { kty: "OKP", crv: "Ed25519", x: "…" }`, "");
    }
    if (d !== undefined) throw new ConfigError(`jwks.keys[${i}] holds a private key ("d"): give the public key only`, "");
  });
  return { keys: keys as JWK[] };
}

/**
 * Declares Ed25519 signatures with keys from a JWKS, e.g. fal.ai's:
 *
 * ```ts
 * ed25519Jwks({
 *   jwksUrl: "https://rest.alpha.fal.ai/.well-known/jwks.json",
 *   signatureHeader: "x-fal-webhook-signature",
 *   timestampHeader: "x-fal-webhook-timestamp",
 *   userIdHeader: "x-fal-webhook-user-id",
 *   message: signedLines(["x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp"]),
 * })
 * ```
 *
 * A delivery is checked in this order: the headers are there, the timestamp is within the
 * tolerance either way, the signature verifies under a key of the set, and (with `userId`) the
 * account is yours. A key rotated in is accepted on its first delivery: an unknown key id, or,
 * without key ids, a signature no cached key verifies, fetches the set once more (within jose's
 * cooldown) before the delivery is refused. Keys that cannot be fetched are `keys.unavailable`
 * (`503`, `Retry-After`), never a `401`.
 */
export function ed25519Jwks(definition: Ed25519JwksDefinition): Ed25519JwksScheme {
  const { jwksUrl, signatureHeader, timestampHeader, userIdHeader, keyIdHeader, message } = definition;
  const { toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = definition;
  const fail = (text: string): never => {
    throw new ConfigError(text, "ed25519Jwks");
  };
  for (const [key, value] of Object.entries({ signatureHeader, timestampHeader, userIdHeader, keyIdHeader })) {
    if ((value !== undefined || key === "signatureHeader" || key === "timestampHeader") && !HEADER_NAME.test(String(value))) {
      fail(`${key} must be a header name`);
    }
  }
  if (typeof message !== "function") fail("message must be a function that builds the signed message, e.g. signedLines([...])");
  if (typeof toleranceSeconds !== "number" || !(toleranceSeconds > 0)) fail("toleranceSeconds must be a positive number of seconds");
  try {
    checkJwksUrl(jwksUrl);
  } catch (err) {
    fail((err as Error).message);
  }
  const names = {
    signature: signatureHeader.toLowerCase(),
    timestamp: timestampHeader.toLowerCase(),
    userId: userIdHeader?.toLowerCase(),
    keyId: keyIdHeader?.toLowerCase(),
  };

  return Object.freeze({
    kind: "ed25519-jwks" as const,
    definition: Object.freeze({ ...definition }),
    signatureHeader: names.signature,
    description:
      `An Ed25519 signature (hex) over the provider's message (its headers and the body's SHA-256), checked with the keys of its JWKS ` +
      `(${jwksUrl}, or the \`jwksUrl\` / \`jwks\` option); \`${names.timestamp}\` within ${toleranceSeconds} s either way` +
      (names.userId === undefined ? "." : `; with the \`userId\` option, \`${names.userId}\` must name your account.`),
    optionKeys: names.userId === undefined ? ["jwksUrl", "jwks"] : ["userId", "jwksUrl", "jwks"],
    startupWarning(options: Ed25519JwksOptions, providerName: string): string | undefined {
      if (names.userId === undefined || options.userId !== undefined) return undefined;
      return (
        `imagegen-webhooks: providers.${providerName} has no userId: its signing keys sign every customer's deliveries, ` +
        `so any ${providerName} customer can point their jobs at this URL. Set providers.${providerName}.userId to your account's id`
      );
    },
    createVerifier(options: Ed25519JwksOptions, crypto: Crypto): SignatureVerifier {
      const { jwksUrl: url, jwks, userId } = options;
      if (url !== undefined && jwks !== undefined) throw new ConfigError("give either jwksUrl or jwks, not both", "");
      if (userId !== undefined && (typeof userId !== "string" || userId.length === 0)) {
        throw new ConfigError("userId must be your account's id at the provider, a non-empty string", "");
      }
      if (userId !== undefined && names.userId === undefined)
        throw new ConfigError("this provider's deliveries name no account: leave userId out", "");
      const remote: RemoteKeySet | undefined = jwks === undefined ? createRemoteJWKSet(checkJwksUrl(url ?? jwksUrl)) : undefined;
      const keySet: KeySet = remote ?? createLocalJWKSet(checkJwks(jwks));

      /** Every key of the set that may have signed: the one named by `kid`, or all of them. */
      async function candidates(kid: string | undefined): Promise<unknown[]> {
        const found: unknown[] = [];
        for (const alg of ALGORITHMS) {
          try {
            found.push(await keySet(kid === undefined ? { alg } : { alg, kid }));
          } catch (err) {
            if (err instanceof errors.JWKSMultipleMatchingKeys) {
              for await (const key of err as unknown as AsyncIterable<unknown>) found.push(key);
            } else if (!(err instanceof errors.JWKSNoMatchingKey)) {
              throw keysUnavailable(err);
            }
          }
        }
        return found;
      }

      async function anyVerifies(keys: readonly unknown[], signed: Uint8Array, signature: Uint8Array): Promise<boolean> {
        for (const key of keys) if (await crypto.verifyEd25519(key, signed, signature)) return true;
        return false;
      }

      async function verifySignature(kid: string | undefined, signed: Uint8Array, signature: Uint8Array): Promise<void> {
        if (await anyVerifies(await candidates(kid), signed, signature)) return;
        // jose fetches again for an unknown `kid` itself; without one, a key rotated in shows only
        // as a signature no cached key verifies. The cooldown bounds what forgeries can make it fetch.
        if (kid !== undefined || !remote || remote.coolingDown) throw new SignatureRejection("auth.failed");
        try {
          await remote.reload();
        } catch (err) {
          throw keysUnavailable(err);
        }
        if (!(await anyVerifies(await candidates(kid), signed, signature))) throw new SignatureRejection("auth.failed");
      }

      return {
        async verify(headers: HeadersInput | undefined, rawBody: Uint8Array | string, nowMs = Date.now()) {
          const timestamp = getHeader(headers, names.timestamp);
          const signatureHex = getHeader(headers, names.signature)?.trim();
          const kid = names.keyId === undefined ? undefined : getHeader(headers, names.keyId);
          if (timestamp === undefined || signatureHex === undefined) throw new SignatureRejection("auth.failed");
          if (names.keyId !== undefined && !kid) throw new SignatureRejection("auth.failed");
          if (!/^\d{1,15}$/.test(timestamp)) throw new SignatureRejection("auth.failed");
          if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) throw new SignatureRejection("auth.failed");
          if (!HEX_SIGNATURE.test(signatureHex)) throw new SignatureRejection("auth.failed");

          const digest = crypto.sha256(rawBody);
          const bodySha256Hex = bytesToHex(isThenable<Uint8Array>(digest) ? await digest : digest);
          const text = message({ header: (name) => getHeader(headers, name.toLowerCase()), bodySha256Hex });
          if (typeof text !== "string") throw new SignatureRejection("auth.failed");

          await verifySignature(kid, encoder.encode(text), hexToBytes(signatureHex));
          // Only a signed account id means anything: checked once the signature holds.
          if (userId !== undefined) {
            const signedFor = getHeader(headers, names.userId as string);
            if (signedFor !== userId) throw new SignatureRejection("auth.wrong-account", { detail: wrongAccountDetail(signedFor) });
          }
        },
      };
    },
  });
}

/** How many characters of the account a delivery names are shown back. */
const SHOWN_ACCOUNT_MAX = 100;

/**
 * Names the account the delivery was signed for (the sender's own signed header, bounded and
 * printable, never the configured userId): a provider may not say where an account's id is shown,
 * and the first refused delivery of one's own is where a user finds it.
 */
function wrongAccountDetail(signedFor: string | undefined): string {
  const shown = signedFor?.replace(/[^\x20-\x7e]/g, "?").slice(0, SHOWN_ACCOUNT_MAX);
  return `signed for account "${shown ?? ""}", not the one this receiver's userId names`;
}
