// lib/crypto/: the few primitives the checks need, behind one interface, so that the pipeline runs
// on node:crypto where it exists (synchronous: a delivery needs no promise) and on Web Crypto
// (`crypto.subtle`, asynchronous) where only web APIs do. The entry point picks one: lib/platform/.

/** A primitive's result: synchronous on Node, a promise on Web Crypto. */
export type MaybePromise<T> = T | Promise<T>;

/** Computes HMAC-SHA256 over the concatenation of `parts` with a key prepared once. */
export type Hmac = (parts: readonly (Uint8Array | string)[]) => MaybePromise<Uint8Array>;

/** What the token and signature checks need of a crypto library. */
export interface Crypto {
  /** SHA-256 of a string's UTF-8 bytes. */
  sha256(text: string): MaybePromise<Uint8Array>;
  /** An HMAC-SHA256 function keyed with `key`, made once at start-up. */
  hmacSha256(key: Uint8Array): Hmac;
  /** Compares two byte arrays of the same length in a time that does not depend on their content. */
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}
