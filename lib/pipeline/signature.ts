import type { Crypto, Hmac } from "../crypto/crypto";
import { base64ToBytes, bytesToBase64 } from "../text/encoding";
import { WebhookError } from "../errors";
import { getHeader } from "../http/headers";
import { DEFAULT_TOLERANCE_SECONDS, type SignatureVerifier } from "../signatures/scheme";
import { isThenable } from "../async/thenable";
import { ConfigError } from "../options/checks";

export { DEFAULT_TOLERANCE_SECONDS, type SignatureVerifier };

/**
 * Standard Webhooks (https://www.standardwebhooks.com), symmetric scheme: HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<raw body>`, keyed with the base64 bytes of a `whsec_` secret,
 * sent as space-separated `v1,<base64>` entries so that a sender can sign with two keys while it rotates.
 */
export const ID_HEADER = "webhook-id";
export const TIMESTAMP_HEADER = "webhook-timestamp";
export const SIGNATURE_HEADER = "webhook-signature";
const SECRET_PREFIX = "whsec_";
/** The specification asks for at least 24 random bytes. */
const MIN_SECRET_BYTES = 24;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** A signature is 32 bytes, 44 base64 characters: longer entries are not worth decoding. */
const MAX_SIGNATURE_CHARS = 88;
/** Bounds the work one request can ask for: a header of thousands of entries is not a rotation. */
const MAX_SIGNATURE_ENTRIES = 16;

/** The key bytes of a `whsec_` secret; throws a message that says what is wrong, never the secret. */
export function decodeSigningSecret(secret: unknown): Uint8Array {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    throw new ConfigError(`a signing secret is the "${SECRET_PREFIX}…" string the provider shows (its base64 key after the prefix)`, "");
  }
  const base64 = secret.slice(SECRET_PREFIX.length);
  const key = BASE64.test(base64) ? base64ToBytes(base64) : undefined;
  // Buffer.from skips characters that are not base64 instead of failing: check the round trip.
  if (!key || bytesToBase64(key).replace(/=+$/, "") !== base64.replace(/=+$/, "")) {
    throw new ConfigError(`a signing secret must be "${SECRET_PREFIX}" followed by base64: this one does not decode`, "");
  }
  if (key.byteLength < MIN_SECRET_BYTES) {
    throw new ConfigError(`a signing secret must hold at least ${MIN_SECRET_BYTES} bytes; this one holds ${key.byteLength}`, "");
  }
  return key;
}

/** One `v1` entry equals one expected HMAC; every pair is compared, with no early exit. */
function anyMatches(crypto: Crypto, expected: readonly Uint8Array[], presented: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const digest of expected) {
    for (const signature of presented) {
      // A constant-time comparison needs equal lengths; a length is no secret.
      if (signature.byteLength === digest.byteLength) matched = crypto.timingSafeEqual(signature, digest) || matched;
    }
  }
  return matched;
}

/**
 * Verifies, in the specification's order: the three headers are there, the timestamp is within
 * the tolerance (either way: a clock ahead is as suspect as a replay), and one `v1` entry equals
 * the HMAC of one of the keys, compared in constant time. Every failure is the same `401`.
 */
export function createSignatureVerifier(keys: readonly Uint8Array[], toleranceSeconds: number, crypto: Crypto): SignatureVerifier {
  const macs: Hmac[] = keys.map((key) => crypto.hmacSha256(key));
  return {
    verify(headers, rawBody, nowMs = Date.now()) {
      const id = getHeader(headers, ID_HEADER);
      const timestamp = getHeader(headers, TIMESTAMP_HEADER);
      const signatures = getHeader(headers, SIGNATURE_HEADER);
      if (!id || !timestamp || !signatures) throw new WebhookError("auth.failed");

      if (!/^\d{1,15}$/.test(timestamp)) throw new WebhookError("auth.failed");
      if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) throw new WebhookError("auth.failed");

      const presented: Uint8Array[] = [];
      for (const entry of signatures.split(" ", MAX_SIGNATURE_ENTRIES)) {
        const comma = entry.indexOf(",");
        if (comma === -1 || entry.slice(0, comma) !== "v1") continue;
        const value = entry.slice(comma + 1);
        if (value.length === 0 || value.length > MAX_SIGNATURE_CHARS) continue;
        const bytes = base64ToBytes(value);
        if (bytes) presented.push(bytes);
      }

      const signed = `${id}.${timestamp}.`;
      const expected = macs.map((mac) => mac([signed, rawBody]));
      if (expected.some(isThenable)) {
        return Promise.all(expected as Promise<Uint8Array>[]).then((digests) => {
          if (!anyMatches(crypto, digests, presented)) throw new WebhookError("auth.failed");
        });
      }
      if (!anyMatches(crypto, expected as Uint8Array[], presented)) throw new WebhookError("auth.failed");
    },
  };
}
