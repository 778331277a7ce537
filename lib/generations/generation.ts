// The one shape of a generation, whatever provider sent it: what providers produce and every layer
// above reads. Imports nothing, so that it sits under every module that names a generation.

/**
 * The providers the exported types are typed by when none are named, by name: the built-in ones,
 * which lib/providers/index.ts merges into this interface. The types that default to them name no
 * provider and import none.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface KnownProviders {}

/** The name of a provider of `KnownProviders`. */
export type KnownProviderName = Extract<keyof KnownProviders, string>;

/** The normalized status of a generation, the same for every provider. */
export type GenerationStatus = "queued" | "processing" | "progress" | "completed" | "failed" | "unknown";

export const GENERATION_STATUSES: readonly GenerationStatus[] = ["queued", "processing", "progress", "completed", "failed", "unknown"];

/**
 * One image of a `Generation`: where the provider serves it (`url`), or, for a provider that sends
 * the image itself (OpenAI's base64), the image as `bytes` with its `contentType`.
 */
export interface GeneratedImage {
  /**
   * Absolute where the provider's `imageBaseUrl` is set and the provider sent a relative path. For
   * an image that came as bytes, a `data:` URL of them: an `<img src>` or `fetch()` reads it as it
   * reads any URL, but it is as large as the image, so store `keptUrl` or `bytes`, not it.
   */
  url: string;
  /** The image itself, where the provider sent it rather than a URL (OpenAI's); absent for an image at a URL. */
  bytes?: Uint8Array;
  /** The media type of `bytes`, e.g. `image/png`, as the provider says; `keepImages` checks it against the bytes. */
  contentType?: string;
  id?: string;
  /** With `keepImages`: where the kept copy is, once stored. Absent when it could not be kept (see `image.failed`). */
  keptUrl?: string;
  /** With `keepImages`: the kept copy's key in the store, its size in bytes and its type (from its magic bytes). */
  kept?: { key: string; size: number; contentType: string };
}

/** One shape for a generation job, whatever provider sent it. `P` is the provider's name. */
export interface Generation<P extends string = KnownProviderName> {
  provider: P;
  /** The provider's id of the job. */
  id: string;
  status: GenerationStatus;
  images: GeneratedImage[];
  /** The image the job started from, where the provider sends one. */
  sourceImageUrl?: string;
  prompt?: string;
  /** The request's parameters, as one object whatever shape the provider sends them in. */
  params: Record<string, unknown>;
  /** Why it failed, where the provider said. */
  error?: string;
  /** ISO 8601; the time of receipt where the provider sent none. */
  createdAt: string;
  /**
   * Where the generation was before this delivery: absent on the first one heard of. On
   * `generation.stale`, the status it stays at (this delivery did not move it forward).
   */
  previousStatus?: Exclude<GenerationStatus, "unknown">;
  /** The caller's own JSON object given to `webhooks.generations.track()`; absent on a generation not tracked. */
  metadata?: Record<string, unknown>;
}
