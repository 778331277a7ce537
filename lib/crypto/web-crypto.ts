import type { Crypto } from "./crypto";

const encoder = new TextEncoder();

function concat(parts: readonly (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((part) => (typeof part === "string" ? encoder.encode(part) : part));
  const out = new Uint8Array(bytes.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of bytes) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * Web Crypto (`crypto.subtle`), for runtimes without node:crypto (Cloudflare Workers without
 * nodejs_compat, browsers' service workers). Every digest is a promise there.
 */
export const webCrypto: Crypto = {
  sha256: async (text) => new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text))),
  hmacSha256: (key) => {
    // Imported on first use: start-up (createWebhooks) is synchronous and importKey is not.
    let imported: ReturnType<typeof crypto.subtle.importKey> | undefined;
    return async (parts) => {
      imported ??= crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      return new Uint8Array(await crypto.subtle.sign("HMAC", await imported, concat(parts)));
    };
  },
  // Web Crypto has no constant-time comparison: every byte is visited, with no early exit.
  timingSafeEqual: (a, b) => {
    let diff = a.byteLength ^ b.byteLength;
    for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] ?? 0);
    return diff === 0;
  },
};
