import type { Crypto, Hmac } from "../crypto/crypto";
import { WebhookError } from "../errors";
import { getHeader, type HeadersInput } from "../headers";
import type { HmacSignatureDeclaration } from "../providers/provider";
import { isThenable } from "../thenable";
import type { SignatureVerifier } from "./signature";

// An HMAC-SHA256 of the raw body, hex, in one header (Black Forest Labs: `X-BFL-Signature:
// sha256=<hex>`), keyed with the secret's UTF-8 bytes. It signs no timestamp and no id, so it
// cannot refuse a replay: a delivery sent again is caught by dedupe, not here.
// The one piece that the `hmacSignature` building block (branch `schemes`) replaces: same
// declaration (header, prefix), same verifier, same signer.

/** A SHA-256 HMAC is 32 bytes: 64 hex digits. */
const HEX_DIGEST = /^[0-9a-f]{64}$/i;
const encoder = new TextEncoder();

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function bytesToHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Every expected digest is compared with the presented one, with no early exit. */
function anyMatches(crypto: Crypto, expected: readonly Uint8Array[], presented: Uint8Array): boolean {
  let matched = false;
  for (const digest of expected) matched = crypto.timingSafeEqual(digest, presented) || matched;
  return matched;
}

/**
 * The verifier of a declared HMAC-of-the-body signature, for the secrets a deployment gives (several
 * while it rotates). A missing header, another prefix, a digest that is not 64 hex digits, and a
 * digest of another secret or another body are the same `401`.
 */
export function createBodyHmacVerifier(
  { header, prefix = "" }: HmacSignatureDeclaration,
  secrets: readonly string[],
  crypto: Crypto,
): SignatureVerifier {
  const macs: Hmac[] = secrets.map((secret) => crypto.hmacSha256(encoder.encode(secret)));
  return {
    verify(headers: HeadersInput | undefined, rawBody: Uint8Array | string) {
      const value = getHeader(headers, header)?.trim();
      if (value === undefined || !value.startsWith(prefix)) throw new WebhookError("auth.failed");
      const hex = value.slice(prefix.length);
      if (!HEX_DIGEST.test(hex)) throw new WebhookError("auth.failed");
      const presented = hexToBytes(hex);
      const expected = macs.map((mac) => mac([rawBody]));
      if (expected.some(isThenable)) {
        return Promise.all(expected as Promise<Uint8Array>[]).then((digests) => {
          if (!anyMatches(crypto, digests, presented)) throw new WebhookError("auth.failed");
        });
      }
      if (!anyMatches(crypto, expected as Uint8Array[], presented)) throw new WebhookError("auth.failed");
    },
  };
}

/** The header a sender signing `rawBody` with `secret` adds: `{ [header]: prefix + hex }` (synchronous crypto only). */
export function signBodyHmac(
  { header, prefix = "" }: HmacSignatureDeclaration,
  secret: string,
  rawBody: Uint8Array | string,
  crypto: Crypto,
): Record<string, string> {
  const digest = crypto.hmacSha256(encoder.encode(secret))([rawBody]);
  if (isThenable(digest)) throw new TypeError("signBodyHmac needs synchronous crypto (node:crypto)");
  return { [header.toLowerCase()]: prefix + bytesToHex(digest) };
}
