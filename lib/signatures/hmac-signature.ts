import type { Crypto, Hmac } from "../crypto/crypto";
import { getHeader, type HeadersInput } from "../http/headers";
import { isThenable } from "../async/thenable";
import { SignatureRejection, type SignatureVerifier } from "./scheme";
import { ConfigError } from "../options/checks";

// An HMAC-SHA256 of the raw body, hex, in one header (Black Forest Labs: `X-BFL-Signature:
// sha256=<hex>`). The scheme signs no timestamp and no id, so it cannot refuse a replay: a
// delivery sent again is caught by dedupe, not here.

/** What a provider declares: where its signature is. */
export interface HmacSignatureDefinition {
  /** The header that carries the signature, e.g. `"x-bfl-signature"` (any case). */
  header: string;
  /** What comes before the hex digest in that header, e.g. `"sha256="`. Default none. */
  prefix?: string;
}

/** An HMAC-of-the-body scheme, declared once by a provider module and keyed per deployment. */
export interface HmacSignatureScheme {
  readonly kind: "hmac";
  /** The signature's header, lower case. */
  readonly header: string;
  readonly prefix: string;
  /**
   * The verifier for the secrets a deployment configures (several while the provider rotates;
   * each is used as its UTF-8 bytes). Throws a `ConfigError` that names no secret when one is empty.
   */
  createVerifier(secrets: readonly string[], crypto: Crypto): SignatureVerifier;
  /** The header a sender signing with `secret` adds, for the testing hooks: `{ [header]: prefix + hex }`. */
  sign(secret: string, rawBody: Uint8Array | string, crypto: Crypto): Record<string, string> | Promise<Record<string, string>>;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;
/** A SHA-256 HMAC is 32 bytes: 64 hex digits. */
const HEX_DIGEST = /^[0-9a-f]{64}$/i;
const encoder = new TextEncoder();

/** Hex digits (an even number, already checked) as bytes. */
export function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** Bytes as lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
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

/** Whether an entry of a provider's `authentication` is an `hmacSignature(...)` scheme. */
export function isHmacSignatureScheme(value: unknown): value is HmacSignatureScheme {
  const scheme = value as HmacSignatureScheme;
  return (
    typeof value === "object" &&
    value !== null &&
    scheme.kind === "hmac" &&
    typeof scheme.header === "string" &&
    typeof scheme.prefix === "string" &&
    typeof scheme.createVerifier === "function" &&
    typeof scheme.sign === "function"
  );
}

/**
 * Declares an HMAC-SHA256-of-the-raw-body signature in a header, e.g. Black Forest Labs':
 * `hmacSignature({ header: "x-bfl-signature", prefix: "sha256=" })`. The digest is compared in
 * constant time; a missing header, another prefix, a digest that is not 64 hex digits, and a
 * digest of another secret or another body are the same `401` (`auth.failed`).
 */
export function hmacSignature({ header, prefix = "" }: HmacSignatureDefinition): HmacSignatureScheme {
  if (typeof header !== "string" || !HEADER_NAME.test(header)) {
    throw new ConfigError(`header must be a header name, e.g. "x-bfl-signature"`, "hmacSignature");
  }
  if (typeof prefix !== "string") throw new ConfigError(`prefix must be a string, e.g. "sha256="`, "hmacSignature");
  const name = header.toLowerCase();
  return Object.freeze({
    kind: "hmac" as const,
    header: name,
    prefix,
    createVerifier(secrets: readonly string[], crypto: Crypto): SignatureVerifier {
      const given: unknown = secrets;
      if (!Array.isArray(given) || given.length === 0 || !given.every((s): s is string => typeof s === "string" && s.length > 0)) {
        throw new ConfigError("an HMAC signature needs one or more non-empty secrets", "");
      }
      const macs: Hmac[] = given.map((secret) => crypto.hmacSha256(encoder.encode(secret)));
      return {
        verify(headers: HeadersInput | undefined, rawBody: Uint8Array | string) {
          const value = getHeader(headers, name)?.trim();
          if (value === undefined || !value.startsWith(prefix)) throw new SignatureRejection("auth.failed");
          const hex = value.slice(prefix.length);
          if (!HEX_DIGEST.test(hex)) throw new SignatureRejection("auth.failed");
          const presented = hexToBytes(hex);
          const expected = macs.map((mac) => mac([rawBody]));
          if (expected.some(isThenable)) {
            return Promise.all(expected as Promise<Uint8Array>[]).then((digests) => {
              if (!anyMatches(crypto, digests, presented)) throw new SignatureRejection("auth.failed");
            });
          }
          if (!anyMatches(crypto, expected as Uint8Array[], presented)) throw new SignatureRejection("auth.failed");
        },
      };
    },
    sign(secret: string, rawBody: Uint8Array | string, crypto: Crypto) {
      const digest = crypto.hmacSha256(encoder.encode(secret))([rawBody]);
      const headerOf = (bytes: Uint8Array) => ({ [name]: prefix + bytesToHex(bytes) });
      return isThenable<Uint8Array>(digest) ? Promise.resolve(digest).then(headerOf) : headerOf(digest);
    },
  });
}
