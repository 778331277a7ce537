import type { NextFunction, Request, Response } from "express";
import { encodePng } from "./png";

/** The side of the demo's pictures, in pixels: enough for a card's thumbnail, a few kilobytes each. */
export const IMAGE_SIZE = 192;

/**
 * The demo's stand-in for a provider's image storage: every image path is drawn on request as a
 * deterministic PNG (a landscape whose colours come from a hash of the path), so the demo shows
 * pictures with no account anywhere, and a path always looks the same. PNG rather than SVG: the
 * demo keeps its images (`keepImages`), which accepts raster types only.
 */
export class DemoStorage {
  /** Mounted with `app.use("/storage", storage.serve)`: `req.path` is the image's path. */
  readonly serve = (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const path = req.path.slice(1);
    if (!IMAGE_PATH.test(path)) {
      res.status(404).type("text/plain").send("no such image");
      return;
    }
    res.type("image/png").set({ "cache-control": "public, max-age=3600", "x-content-type-options": "nosniff" }).send(renderImage(path));
  };
}

// Whatever extension a provider names, the bytes are a PNG: keepImages trusts the bytes, not the name.
const IMAGE_PATH = /^[\w.-]+(?:\/[\w.-]+)*\.(?:png|jpe?g|webp)$/;

/** FNV-1a: a stable 32-bit hash, so a path always draws the same picture. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

type Rgb = readonly [number, number, number];

/** HSL (degrees, 0–1, 0–1) to 8-bit RGB. */
function hsl(h: number, s: number, l: number): Rgb {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))));
  return [f(0), f(8), f(4)];
}

const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

/** A hill's height at each column: five points from the seed joined by cosine curves. */
function ridge(seed: number, base: number, amplitude: number, size: number): Float64Array {
  const points = [0, 1, 2, 3, 4].map((i) => base - (((seed >>> (i * 5)) & 31) / 31) * amplitude);
  const heights = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    const at = (x / (size - 1)) * 4;
    const i = Math.min(3, Math.floor(at));
    const t = (1 - Math.cos((at - i) * Math.PI)) / 2;
    heights[x] = (points[i] as number) * (1 - t) + (points[i + 1] as number) * t;
  }
  return heights;
}

/** The picture of an image path: a sky, a sun and three hills, in colours drawn from the path's hash. */
export function renderImage(path: string, size = IMAGE_SIZE): Buffer {
  const h = hash(path);
  const hue = h % 360;
  const hue2 = (hue + 40 + ((h >>> 9) % 80)) % 360;
  const skyTop = hsl(hue, 0.7, 0.78);
  const skyBottom = hsl(hue2, 0.6, 0.45);
  const sun = hsl((hue + 180) % 360, 0.9, 0.88);
  const scale = size / 512;
  const [sunX, sunY, sunR] = [(90 + ((h >>> 3) % 330)) * scale, (110 + ((h >>> 11) % 90)) * scale, (38 + ((h >>> 17) % 30)) * scale];
  const hills = [
    { top: ridge(h, 330 * scale, 90 * scale, size), colour: hsl(hue2, 0.45, 0.4) },
    { top: ridge((h >>> 7) ^ h, 380 * scale, 70 * scale, size), colour: hsl(hue2, 0.5, 0.3) },
    { top: ridge((h >>> 13) ^ (h << 3), 430 * scale, 50 * scale, size), colour: hsl(hue2, 0.55, 0.2) },
  ];
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let colour = mix(skyTop, skyBottom, y / size);
      if ((x - sunX) ** 2 + (y - sunY) ** 2 <= sunR ** 2) colour = mix(colour, sun, 0.9);
      // The nearest hill is drawn last, over the others.
      for (const hill of hills) if (y >= (hill.top[x] as number)) colour = hill.colour;
      pixels.set(colour.map(Math.round), (y * size + x) * 3);
    }
  }
  return encodePng(size, size, pixels);
}
