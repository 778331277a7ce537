import * as crypto from "node:crypto";
import type { Crypto } from "./crypto";

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: "buffer") => Buffer;
// crypto.hash() (Node 20.12 and later) digests in one call, without a Hash object per request.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/** A jose key as a KeyObject: Node's jose gives one; a CryptoKey (from its browser build) converts. */
function asKeyObject(key: unknown): crypto.KeyObject | undefined {
  if (key instanceof crypto.KeyObject) return key;
  // Not `instanceof`: CryptoKey is not exported by every Node version, and jest's realm has its own globals.
  if (typeof key === "object" && key !== null && "algorithm" in key && "usages" in key) {
    try {
      return crypto.KeyObject.from(key as crypto.webcrypto.CryptoKey);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** node:crypto: every primitive synchronous, so that a delivery on Node is checked without a promise. */
export const nodeCrypto: Crypto = {
  sha256: (data) => (oneShot ? oneShot("sha256", data, "buffer") : crypto.createHash("sha256").update(data).digest()),
  hmacSha256: (key) => (parts) => {
    const hmac = crypto.createHmac("sha256", key);
    for (const part of parts) hmac.update(part);
    return hmac.digest();
  },
  timingSafeEqual: (a, b) => crypto.timingSafeEqual(a, b),
  verifyEd25519: (key, message, signature) => {
    const keyObject = asKeyObject(key);
    if (keyObject?.type !== "public" || keyObject.asymmetricKeyType !== "ed25519") return false;
    // `null`: Ed25519 hashes the message itself, and takes no digest name.
    return crypto.verify(null, message, keyObject, signature);
  },
};
