import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import type { ImageStore, StoredImage } from "./image-store";

/** The options of `directoryImageStore`. */
export interface DirectoryImageStoreOptions {
  /** Where the directory is served, e.g. `https://example.com/kept/`: `keptUrl` is below it. Default: a `file:` URL. */
  publicBaseUrl?: string;
}

/** The file extension of each type `keepImages` accepts: a static file server then serves the right type. */
const EXTENSIONS: Record<string, string> = {
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/webp": ".webp",
  "image/gif": ".gif",
  "image/avif": ".avif",
};

/** Kept images as files below `dir` (`<provider>/<generation>/<hash>.<ext>`), written whole or not at all. */
export function directoryImageStore(dir: string, options: DirectoryImageStoreOptions = {}): ImageStore {
  const root = resolve(dir);
  const base = options.publicBaseUrl === undefined ? undefined : withSlash(new URL(options.publicBaseUrl).href);
  const fileOf = (key: string): string => {
    const file = resolve(root, key);
    if (!file.startsWith(root + sep)) throw new TypeError(`imagegen-webhooks: the image key ${key} leaves the directory`);
    return file;
  };
  const urlOf = (key: string): string =>
    base === undefined ? pathToFileURL(fileOf(key)).href : base + key.split("/").map(encodeURIComponent).join("/");

  return {
    async put(key: string, body: Readable, { contentType }: { contentType: string }) {
      const stored = key + (EXTENSIONS[contentType] ?? "");
      const file = fileOf(stored);
      await mkdir(dirname(file), { recursive: true });
      // Written aside and renamed: a reader never sees half an image, and a failed one leaves nothing.
      const partial = `${file}.${randomBytes(6).toString("hex")}.partial`;
      try {
        await pipeline(body, createWriteStream(partial));
        await rename(partial, file);
      } catch (err) {
        await unlink(partial).catch(() => {});
        throw err;
      }
      return { key: stored, url: urlOf(stored) };
    },

    async stat(key: string): Promise<StoredImage | undefined> {
      for (const [contentType, extension] of Object.entries(EXTENSIONS)) {
        const stored = key + extension;
        const found = await stat(fileOf(stored)).catch(() => undefined);
        if (found?.isFile()) return { key: stored, url: urlOf(stored), size: found.size, contentType };
      }
      return undefined;
    },
  };
}

function withSlash(href: string): string {
  return href.endsWith("/") ? href : `${href}/`;
}
