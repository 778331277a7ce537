import type { Crypto } from "../crypto/crypto";
import type { HmacSignatureDeclaration } from "../providers/provider";
import { hmacSignature } from "../signatures/hmac-signature";
import { isThenable } from "../async/thenable";
import type { SignatureVerifier } from "./signature";

// A provider's declared HMAC of the body (Black Forest Labs: `X-BFL-Signature: sha256=<hex>`),
// checked by the `hmacSignature` building block: the declaration is its definition. It signs no
// timestamp and no id, so it cannot refuse a replay: a delivery sent again is caught by dedupe.

/**
 * The verifier of a declared HMAC-of-the-body signature, for the secrets a deployment gives (several
 * while it rotates). A missing header, another prefix, a digest that is not 64 hex digits, and a
 * digest of another secret or another body are the same `401`.
 */
export function createBodyHmacVerifier(
  declaration: HmacSignatureDeclaration,
  secrets: readonly string[],
  crypto: Crypto,
): SignatureVerifier {
  return hmacSignature(declaration).createVerifier(secrets, crypto);
}

/** The header a sender signing `rawBody` with `secret` adds: `{ [header]: prefix + hex }` (synchronous crypto only). */
export function signBodyHmac(
  declaration: HmacSignatureDeclaration,
  secret: string,
  rawBody: Uint8Array | string,
  crypto: Crypto,
): Record<string, string> {
  const headers = hmacSignature(declaration).sign(secret, rawBody, crypto);
  if (isThenable(headers)) throw new TypeError("signBodyHmac needs synchronous crypto (node:crypto)");
  return headers;
}
