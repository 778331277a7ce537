import * as crypto from "node:crypto";
import type { Crypto } from "./crypto";

type OneShotHash = (algorithm: string, data: string, outputEncoding: "buffer") => Buffer;
// crypto.hash() (Node 20.12 and later) digests in one call, without a Hash object per request.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/** node:crypto: every primitive synchronous, so that a delivery on Node is checked without a promise. */
export const nodeCrypto: Crypto = {
  sha256: (text) => (oneShot ? oneShot("sha256", text, "buffer") : crypto.createHash("sha256").update(text, "utf8").digest()),
  hmacSha256: (key) => (parts) => {
    const hmac = crypto.createHmac("sha256", key);
    for (const part of parts) hmac.update(part);
    return hmac.digest();
  },
  timingSafeEqual: (a, b) => crypto.timingSafeEqual(a, b),
};
