// lib/crypto/: the few primitives the checks need, behind one interface, so that the pipeline runs
// on node:crypto where it exists (synchronous: a delivery needs no promise) and on Web Crypto
// (`crypto.subtle`, asynchronous) where only web APIs do. The entry point picks one: lib/platform/.

/** A primitive's result: synchronous on Node, a promise on Web Crypto. */
export type MaybePromise<T> = T | Promise<T>;

/** Computes HMAC-SHA256 over the concatenation of `parts` with a key prepared once. */
export type Hmac = (parts: readonly (Uint8Array | string)[]) => MaybePromise<Uint8Array>;

/** What the token and signature checks need of a crypto library. */
export interface Crypto {
  /** SHA-256 of bytes, or of a string's UTF-8 bytes. */
  sha256(data: string | Uint8Array): MaybePromise<Uint8Array>;
  /** An HMAC-SHA256 function keyed with `key`, made once at start-up. */
  hmacSha256(key: Uint8Array): Hmac;
  /** Compares two byte arrays of the same length in a time that does not depend on their content. */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /**
   * Whether `signature` is an Ed25519 signature of `message` under `key`, the public key `jose`
   * imported from a JWK: a node:crypto `KeyObject` under Node's build of jose, a Web Crypto
   * `CryptoKey` under its browser build (Bun, Deno, workerd). Each backend takes either. A key
   * that is not an Ed25519 public key verifies nothing: `false`, never a throw.
   */
  verifyEd25519(key: unknown, message: Uint8Array, signature: Uint8Array): MaybePromise<boolean>;
}
