import type { Readable } from "node:stream";

/** An image in an `ImageStore`. */
export interface StoredImage {
  /** The key the store gave it (a store may add an extension to the key it was asked for). */
  key: string;
  /** Where the kept copy is read: a public URL when the store has a `publicBaseUrl`. */
  url: string;
  size: number;
  contentType: string;
}

/**
 * Where kept images go: `directoryImageStore()`, `s3ImageStore()` from `imagegen-webhooks/s3`, or
 * your own. Keys are derived from the provider, the generation and the image's URL, so `stat` of
 * the same key tells whether an image is already kept (by this process or another, before a restart).
 */
export interface ImageStore {
  /**
   * Stores `body` under `key`. When `body` fails (too large, the timeout), rejects and keeps
   * nothing: no partial image is ever left under `key`.
   */
  put(key: string, body: Readable, info: { contentType: string }): Promise<{ key: string; url: string }>;
  /** The image stored under `key`, or `undefined`. */
  stat(key: string): Promise<StoredImage | undefined>;
}
