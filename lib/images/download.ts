import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { checkDestination, guardedLookup, type AllowedHosts } from "./destination";
import { ImageKeepError } from "../errors/image-keep-error";
import { mediaType, sniffImage, SNIFF_BYTES } from "./sniff";

/** A few hops, as browsers' signed-URL chains need; a loop of redirects stops here. */
export const MAX_REDIRECTS = 5;

/** How images are fetched: resolved once from `keepImages`. */
export interface DownloadConfig {
  maxBytes: number;
  allowedHosts: AllowedHosts;
  /** Sockets whose lookup refuses non-public addresses, and plain ones for allowed hosts; kept alive between images. */
  agents: { guarded: { http: http.Agent; https: https.Agent }; trusted: { http: http.Agent; https: https.Agent } };
}

/** The agents of one receiver: keep-alive sockets are reused only by the same kind of destination. */
export function createAgents(): DownloadConfig["agents"] {
  const guarded = { keepAlive: true, lookup: guardedLookup } as http.AgentOptions;
  return {
    guarded: { http: new http.Agent(guarded), https: new https.Agent(guarded) },
    trusted: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  };
}

/** An image being downloaded, its type checked: `body` streams its bytes and fails past `maxBytes`. */
export interface OpenedImage {
  body: Readable;
  contentType: string;
  /** The bytes streamed so far: the image's size once `body` has ended. */
  bytes(): number;
}

/**
 * Opens `url` for download: each hop's destination checked before it is requested, redirects
 * followed by hand, the status, the declared type and size, then the magic bytes checked.
 * `signal` aborts it (the caller's timeout).
 */
export async function openImage(url: string, config: DownloadConfig, signal: AbortSignal): Promise<OpenedImage> {
  let target = parseUrl(url);
  for (let hop = 0; ; hop++) {
    const response = await request(target, config, signal);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location !== undefined) {
      response.resume();
      if (hop === MAX_REDIRECTS) throw new ImageKeepError("http-status", `more than ${MAX_REDIRECTS} redirects`, { status });
      target = parseUrl(location, target);
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new ImageKeepError("http-status", `the image server answered ${status}`, { status });
    }
    return checkedBody(response, config.maxBytes);
  }
}

function parseUrl(location: string, base?: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new ImageKeepError("refused-address", `not a URL: ${location.slice(0, 200)}`);
  }
}

function request(url: URL, config: DownloadConfig, signal: AbortSignal): Promise<IncomingMessage> {
  const agents = checkDestination(url, config.allowedHosts) === "trusted" ? config.agents.trusted : config.agents.guarded;
  const secure = url.protocol === "https:";
  return new Promise((resolve, reject) => {
    const options = { agent: secure ? agents.https : agents.http, signal, headers: { accept: "image/*" } };
    const req = (secure ? https : http).get(url, options, resolve);
    req.on("error", (err) => reject(asKeepError(err, signal)));
  });
}

/** What a socket or stream error means for the image: a refusal of the lookup, the timeout, or the network. */
export function asKeepError(err: unknown, signal: AbortSignal): ImageKeepError {
  if (err instanceof ImageKeepError) return err;
  if (signal.aborted) return new ImageKeepError("timeout", "the image took too long", { cause: err });
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  if (cause instanceof ImageKeepError) return cause;
  return new ImageKeepError("network", `the image could not be downloaded: ${(err as Error).message}`, { cause: err });
}

async function checkedBody(response: IncomingMessage, maxBytes: number): Promise<OpenedImage> {
  const declared = mediaType(response.headers["content-type"]);
  if (!declared.startsWith("image/")) {
    response.destroy();
    throw new ImageKeepError("not-an-image", `served as ${declared || "no type"}, not as an image`);
  }
  const length = Number(response.headers["content-length"]);
  if (length > maxBytes) {
    response.destroy();
    throw new ImageKeepError("too-large", `${length} bytes, over maxBytes (${maxBytes})`);
  }
  const guard = new ImageGuard(declared, maxBytes);
  response.on("error", (err) => guard.destroy(err));
  response.pipe(guard);
  // The type is known once the first bytes are in: nothing reaches the store before.
  const contentType = await guard.sniffed;
  return { body: guard, contentType, bytes: () => guard.bytes };
}

/**
 * Passes the bytes through once the first ones agree with the declared type, and fails the stream
 * past `maxBytes`, whatever Content-Length said: memory holds a stream buffer, never an image.
 */
class ImageGuard extends Transform {
  bytes = 0;
  readonly sniffed: Promise<string>;
  /** The first bytes, held until there are enough to sniff; `undefined` once released. */
  #head: Buffer[] | undefined = [];
  #headBytes = 0;
  #settle!: { resolve: (type: string) => void; reject: (err: Error) => void };

  constructor(
    private readonly declared: string,
    private readonly maxBytes: number,
  ) {
    super();
    this.sniffed = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    // A failure before the type is known rejects `sniffed`; one after, the stream's consumer sees.
    this.sniffed.catch(() => {});
    this.once("error", (err) => this.#settle.reject(err));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) return callback(new ImageKeepError("too-large", `over maxBytes (${this.maxBytes})`));
    if (this.#head === undefined) return callback(null, chunk);
    this.#head.push(chunk);
    this.#headBytes += chunk.length;
    if (this.#headBytes < SNIFF_BYTES) return callback();
    this.#release(callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#head !== undefined) this.#release(callback);
    else callback();
  }

  #release(callback: TransformCallback): void {
    const head = Buffer.concat(this.#head ?? []);
    this.#head = undefined;
    const actual = sniffImage(head);
    if (actual === undefined || actual !== this.declared) {
      return callback(
        new ImageKeepError(
          "not-an-image",
          `served as ${this.declared}, but its bytes are ${actual ?? "not a PNG, JPEG, WebP, GIF or AVIF image"}`,
        ),
      );
    }
    this.#settle.resolve(actual);
    callback(null, head);
  }
}
