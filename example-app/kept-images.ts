import express, { Router } from "express";
import { directoryImageStore, type KeepImagesOptions } from "imagegen-webhooks";

/** Where the demo serves the images it kept. */
export const KEPT_PATH = "/kept";

export interface DemoKeptImagesOptions {
  /** The directory the images are kept in (`npm start`: `example-app/.kept/`). */
  dir: string;
  /** This server's `/kept/` route as a browser reaches it: each `keptUrl` is below it. */
  publicBaseUrl: string;
}

/** Only what the store writes: a file still being written (`….partial`) is never served. */
const KEPT_FILE = /^\/[\w.-]+(?:\/[\w.-]+)*\.(?:png|jpg|webp|gif|avif)$/;

/**
 * The demo's `keepImages`: its images downloaded from the storage route into a directory, and
 * that directory served. `storageHost` is allowed over `http:` and on loopback, which the safe
 * downloads refuse to anyone else: the demo's storage is this very server, or another demo on the
 * same host (a bare host name in `allowedHosts` takes any port).
 */
export function keptImages(options: DemoKeptImagesOptions, storageHost: string): { keepImages: KeepImagesOptions; router: Router } {
  const files = express.static(options.dir, { index: false, dotfiles: "ignore", fallthrough: false });
  const router = Router().use(KEPT_PATH, (req, res, next) => {
    if (!KEPT_FILE.test(req.path)) {
      res.status(404).type("text/plain").send("no such kept image");
      return;
    }
    res.set("x-content-type-options", "nosniff");
    files(req, res, next);
  });
  return {
    keepImages: { store: directoryImageStore(options.dir, { publicBaseUrl: options.publicBaseUrl }), allowedHosts: [storageHost] },
    router,
  };
}
