import type { NextFunction, Request, Response } from "express";

/**
 * The demo's stand-in for a provider's image storage: every image path is drawn on request as a
 * deterministic SVG (a gradient landscape from a hash of the path, and a caption), so the demo
 * shows pictures with no account anywhere, and a path always looks the same.
 */
export class DemoStorage {
  readonly #captions = new Map<string, string>();

  constructor(private readonly maxCaptions = 2000) {}

  /** Remembers what an image shows, learned from the delivery that announced it. */
  caption(path: string, caption: string): void {
    this.#captions.delete(path);
    this.#captions.set(path, caption);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.#captions.size > this.maxCaptions) this.#captions.delete(this.#captions.keys().next().value as string);
  }

  /** Mounted with `app.use("/storage", storage.serve)`: `req.path` is the image's path. */
  readonly serve = (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const path = req.path.slice(1);
    if (!IMAGE_PATH.test(path)) {
      res.status(404).type("text/plain").send("no such image");
      return;
    }
    res
      .type("image/svg+xml")
      .set({
        "cache-control": "public, max-age=3600",
        // An SVG opened on its own is a document: it gets no script and no outside resource.
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
        "x-content-type-options": "nosniff",
      })
      .send(renderImage(path, this.#captions.get(path)));
  };
}

const IMAGE_PATH = /^[\w.-]+(?:\/[\w.-]+)*\.(?:png|svg|jpe?g|webp)$/;

/** FNV-1a: a stable 32-bit hash, so a path always draws the same picture. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Splits a caption into at most three lines of about 26 characters. */
function wrap(text: string, width = 26, lines = 3): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  if (out.length > lines) {
    out.length = lines;
    out[lines - 1] = `${(out[lines - 1] as string).slice(0, width - 1)}…`;
  }
  return out;
}

/** Three hills, each a smooth curve across the picture at its own height. */
function hill(seed: number, baseY: number, amplitude: number): string {
  const points = [0, 128, 256, 384, 512].map((x, i) => [x, baseY - (((seed >>> (i * 5)) & 31) / 31) * amplitude] as const);
  let d = `M0 512 L${points[0]?.[0]} ${points[0]?.[1]}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1] as readonly [number, number];
    const [x1, y1] = points[i] as readonly [number, number];
    d += ` C${x0 + 64} ${y0} ${x1 - 64} ${y1} ${x1} ${y1}`;
  }
  return `${d} L512 512 Z`;
}

export function renderImage(path: string, caption?: string): string {
  const h = hash(path);
  const hue = h % 360;
  const hue2 = (hue + 40 + ((h >>> 9) % 80)) % 360;
  const sunX = 90 + ((h >>> 3) % 330);
  const sunY = 110 + ((h >>> 11) % 90);
  const name = path.split("/").pop() ?? path;
  const lines = wrap(caption ?? name.replace(/\.\w+$/, "").replace(/[-_]/g, " "));
  const text = lines.map((line, i) => `<text x="28" y="${512 - 28 - (lines.length - 1 - i) * 30}">${escapeXml(line)}</text>`).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue} 70% 78%)"/><stop offset="1" stop-color="hsl(${hue2} 60% 45%)"/></linearGradient>
<linearGradient id="shade" x1="0" y1="0" x2="0" y2="1"><stop offset="0.55" stop-color="#000" stop-opacity="0"/><stop offset="1" stop-color="#000" stop-opacity="0.6"/></linearGradient></defs>
<rect width="512" height="512" fill="url(#sky)"/>
<circle cx="${sunX}" cy="${sunY}" r="${38 + ((h >>> 17) % 30)}" fill="hsl(${(hue + 180) % 360} 90% 88%)" opacity="0.9"/>
<path d="${hill(h, 330, 90)}" fill="hsl(${hue2} 45% 40%)" opacity="0.75"/>
<path d="${hill((h >>> 7) ^ h, 380, 70)}" fill="hsl(${hue2} 50% 30%)" opacity="0.85"/>
<path d="${hill((h >>> 13) ^ (h << 3), 430, 50)}" fill="hsl(${hue2} 55% 20%)"/>
<rect width="512" height="512" fill="url(#shade)"/>
<g font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="24" font-weight="600" fill="#fff">${text}</g>
<text x="484" y="44" text-anchor="end" font-family="ui-monospace, monospace" font-size="18" fill="#fff" opacity="0.85">${escapeXml(name)}</text>
</svg>
`;
}
