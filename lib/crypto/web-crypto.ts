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

type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
/** The global CryptoKey class, where the runtime has one (the types here are Node's, without the DOM's). */
const CryptoKeyClass = (globalThis as { CryptoKey?: abstract new () => WebCryptoKey }).CryptoKey;

/** A KeyObject seen through web-API eyes: what jose gives when the web entry runs under Node. */
interface ExportableKey {
  type: string;
  asymmetricKeyType?: string;
  export(options: { format: "jwk" }): Record<string, unknown>;
}

const isExportable = (key: unknown): key is ExportableKey =>
  typeof key === "object" && key !== null && typeof (key as Partial<ExportableKey>).export === "function";

/** Imported once per key: jose keeps its keys for as long as the key set holds them. */
const imported = new WeakMap<object, Promise<WebCryptoKey | undefined>>();

function ed25519PublicKey(key: unknown): Promise<WebCryptoKey | undefined> {
  if (CryptoKeyClass && key instanceof CryptoKeyClass) {
    return Promise.resolve(key.type === "public" && key.algorithm.name === "Ed25519" ? key : undefined);
  }
  if (!isExportable(key) || key.type !== "public" || key.asymmetricKeyType !== "ed25519") return Promise.resolve(undefined);
  let cryptoKey = imported.get(key);
  if (!cryptoKey) {
    cryptoKey = crypto.subtle.importKey("jwk", key.export({ format: "jwk" }), { name: "Ed25519" }, false, ["verify"]);
    imported.set(key, cryptoKey);
  }
  return cryptoKey;
}

/**
 * Web Crypto (`crypto.subtle`), for runtimes without node:crypto (Cloudflare Workers without
 * nodejs_compat, browsers' service workers). Every digest is a promise there.
 */
export const webCrypto: Crypto = {
  sha256: async (data) => new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data)),
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
  verifyEd25519: async (key, message, signature) => {
    try {
      const publicKey = await ed25519PublicKey(key);
      return publicKey !== undefined && (await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, message));
    } catch {
      // A runtime without Ed25519 in Web Crypto, or a key it will not import: nothing verifies.
      return false;
    }
  },
};
