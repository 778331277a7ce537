import { ConfigError, isObject, isPositiveNumber, rejectUnknownKeys } from "../options/checks";
import { parseAllowedHosts } from "./destination";
import { ImageKeeper, type KeepImagesOptions } from "./keeper";

const KEYS = ["store", "maxBytes", "timeoutMs", "allowedHosts", "concurrency", "maxImages"];
export const DEFAULT_MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const DEFAULT_IMAGE_TIMEOUT_MS = 30_000;
export const DEFAULT_IMAGE_CONCURRENCY = 4;
export const DEFAULT_MAX_IMAGES = 16;

function positive(value: unknown, name: string, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (!isPositiveNumber(value) || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`keepImages.${name} must be a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`, "");
  }
  return value;
}

/**
 * Checks `keepImages` once, at start-up; throws a `ConfigError` whose message says what to set
 * (without the package's name, which createWebhooks puts before it).
 */
export function resolveKeepImages(options: unknown): ImageKeeper {
  if (!isObject(options)) {
    throw new ConfigError("keepImages must be an object, e.g. { store: directoryImageStore('./kept-images') }", "");
  }
  rejectUnknownKeys(options, KEYS, "in keepImages", "");
  const { store, maxBytes, timeoutMs, allowedHosts = [], concurrency, maxImages } = options as unknown as KeepImagesOptions;
  const methods = store as unknown as Record<string, unknown> | undefined;
  if (typeof methods?.put !== "function" || typeof methods.stat !== "function") {
    throw new ConfigError("keepImages.store must be an image store with put() and stat(), e.g. directoryImageStore('./kept-images')", "");
  }
  if (!Array.isArray(allowedHosts) || allowedHosts.some((host) => typeof host !== "string" || host === "")) {
    throw new ConfigError('keepImages.allowedHosts must be an array of "host" or "host:port" strings', "");
  }
  let hosts;
  try {
    hosts = parseAllowedHosts(allowedHosts);
  } catch {
    throw new ConfigError(
      `keepImages.allowedHosts must hold "host" or "host:port" entries, e.g. ["storage.internal", "127.0.0.1:8080"]`,
      "",
    );
  }
  return new ImageKeeper({
    store,
    download: { maxBytes: positive(maxBytes, "maxBytes", DEFAULT_MAX_IMAGE_BYTES, true), allowedHosts: hosts },
    timeoutMs: positive(timeoutMs, "timeoutMs", DEFAULT_IMAGE_TIMEOUT_MS, false),
    concurrency: positive(concurrency, "concurrency", DEFAULT_IMAGE_CONCURRENCY, true),
    maxImages: positive(maxImages, "maxImages", DEFAULT_MAX_IMAGES, true),
  });
}
