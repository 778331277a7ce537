// The web-standard adapter: a `Request` in, a `Response` out, and nothing else of the runtime, so
// that Next.js, Hono, Bun, Deno and Workers share it. Like node-middleware.ts it does the route, the
// method and the raw body, and the pipeline does the rest.
import { WebhookError } from "../errors";
import type { Logger } from "../logging/logger";
import { admit, notFound, problemAnswer, receiveBody, refuse, type Receiver, type ResolvedProvider } from "../pipeline/index";
import { printable } from "../text/printable";
import type { WebhookResponse } from "./response";
import { warnOnce } from "../logging/warn-once";

/** How `webhooks.fetch()` finds the provider, and what the platform offers beside the request. */
export interface FetchOptions {
  /**
   * The provider to answer for, where the router already chose it (a Next.js route file per
   * provider, a Hono route with a parameter); the URL's path is not read then.
   */
  provider?: string;
  /**
   * Where the handler is mounted, e.g. `/webhooks`: the provider's path (`/crazyhorse`, or its
   * `path` option) is read below it. Default: the provider's path is the URL's whole path.
   */
  basePath?: string;
  /**
   * The platform's way to keep work alive after the answer (a Worker's `ctx.waitUntil`, Vercel's
   * `waitUntil`, Next.js's `after`). Listeners still running at `handlerTimeoutMs` are handed to it
   * when the provider is answered `202`; without it, a serverless platform may stop them there.
   */
  waitUntil?: (work: Promise<unknown>) => void;
  /**
   * The sender's address, for a provider's `allowedIps`: a web Request has none. Bun's
   * `server.requestIP(request)?.address`, Deno's `info.remoteAddr.hostname`, or what your own
   * proxy forwards. Without it, a provider with `allowedIps` answers `403`, as it does to an unknown
   * sender, and says why once.
   */
  ip?: string;
}

/** `webhooks.fetch`: a web-standard handler. */
export type FetchHandler = (request: Request, options?: FetchOptions) => Promise<Response>;

const ALREADY_READ =
  "imagegen-webhooks: the Request's body was read before webhooks.fetch() (answered 500): pass the request untouched " +
  "(in Hono, c.req.raw before any c.req.json()), or a request.clone() made before reading it.";

/** A path that a URL parser leaves as it is: no percent-escape, no dot, nothing it would escape or turn into a slash. */
const PLAIN_PATH = /^\/[A-Za-z0-9\-_~!$&'()*+,;=:@/]*$/;

/**
 * The path and the query of a Request's URL, read off the string: a Request's URL is already
 * parsed and serialized, and parsing it again was a measured share of a delivery. A path a URL
 * parser would rewrite (a bridge such as @hono/node-server hands over the path as the client sent
 * it, percent-escaped dots and all) goes through `URL`, as every path did. The query is passed on
 * as it is: parsing it as `URLSearchParams` gives the same values from it as from `URL`'s.
 */
function urlParts(url: string): { pathname: string; search: string } {
  const scheme = url.indexOf("://");
  let start = -1;
  if (scheme !== -1) {
    for (let at = scheme + 3; at < url.length; at++) {
      const char = url.charCodeAt(at);
      if (char === 0x2f) {
        start = at;
        break;
      }
      if (char === 0x3f || char === 0x23 || char === 0x5c) break;
    }
  }
  if (start !== -1) {
    const hash = url.indexOf("#", start);
    const end = hash === -1 ? url.length : hash;
    const query = url.indexOf("?", start);
    const pathEnd = query !== -1 && query < end ? query : end;
    const pathname = url.slice(start, pathEnd);
    if (PLAIN_PATH.test(pathname)) return { pathname, search: pathEnd < end ? url.slice(pathEnd + 1, end) : "" };
  }
  const parsed = new URL(url);
  return { pathname: parsed.pathname, search: parsed.search.slice(1) };
}

/** The path the provider routes are matched against: below `basePath`, without a trailing slash. */
function routePath(pathname: string, basePath: string | undefined): string | undefined {
  let path = pathname;
  if (basePath !== undefined && basePath !== "" && basePath !== "/") {
    const base = basePath.endsWith("/") ? basePath.slice(0, -1) : basePath;
    if (path !== base && !path.startsWith(`${base}/`)) return undefined;
    path = path.slice(base.length) || "/";
  }
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function toResponse(answer: WebhookResponse): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}

/** What the platform inflates beyond `DecompressionStream`'s formats (`Platform.decoder`): a transform for the body, or nothing. */
export type Decoder = (encoding: string) => ByteTransform | undefined;

/** Bytes in, bytes out: a `TransformStream`, or anything with its two sides. */
export interface ByteTransform {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** A `Content-Encoding`'s transform, where the runtime has one; `undefined` for `identity`. */
function inflater(encoding: string, decoder: Decoder | undefined): ByteTransform | undefined {
  if (encoding === "identity") return undefined;
  const format = encoding === "gzip" || encoding === "x-gzip" ? "gzip" : encoding === "deflate" ? "deflate" : undefined;
  if (format) return pieceByPiece(new DecompressionStream(format));
  const other = decoder?.(encoding);
  if (!other) throw new WebhookError("encoding.unsupported");
  return other;
}

/**
 * Deflate inflates at most about 1,032 bytes for one: the compressed bytes are handed over this
 * many at a time, so that a `DecompressionStream` that inflates each write whole (Deno's does)
 * makes at most about a mebibyte before the count is checked again.
 */
const PIECE = 1024;

function pieceByPiece(stream: ByteTransform): ByteTransform {
  const pieces = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let start = 0; start < chunk.byteLength; start += PIECE) controller.enqueue(chunk.subarray(start, start + PIECE));
    },
  });
  void pieces.readable.pipeTo(stream.writable).catch(() => {});
  return { writable: pieces.writable, readable: stream.readable };
}

/**
 * Reads the rest of a refused body without keeping it, as body-parser does before its 413: a
 * server that answers while the client is still sending resets the connection under it (workerd
 * does), and the client sees a network error instead of the answer. Only the bytes as sent are
 * read: nothing more is inflated.
 */
async function discard(body: ReadableStream<Uint8Array>): Promise<void> {
  try {
    const reader = body.getReader();
    while (!(await reader.read()).done);
  } catch {
    // The client went away: nothing is left to answer.
  }
}

/** Joins the chunks read into one array. */
function joined(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * The raw body, capped: nothing is kept past the limit, whether the Content-Length says so at once
 * or the body (chunked, or inflated) grows beyond it. Throws `body.unavailable` at once (no promise
 * is made for the common read before it starts); every other refusal rejects.
 */
function readBody(request: Request, limit: number, logger: Logger, decoder: Decoder | undefined): Promise<Uint8Array> {
  if (request.bodyUsed) {
    logger.error({}, ALREADY_READ);
    throw new WebhookError("body.unavailable");
  }
  const { headers } = request;
  const contentEncoding = headers.get("content-encoding");
  const encoding = contentEncoding === null ? "identity" : contentEncoding.trim().toLowerCase();
  const declared = headers.get("content-length");
  const length = declared !== null && DIGITS.test(declared) ? Number(declared) : undefined;
  if (encoding === "identity" && length !== undefined && length <= limit) return readDeclared(request, length, limit);
  return readStreamed(request, encoding, length, limit, decoder);
}

/**
 * The body streamed: an inflated body is counted as it comes out and its inflation stopped as soon
 * as it passes the limit, since a few kilobytes can inflate to gigabytes.
 */
async function readStreamed(
  request: Request,
  encoding: string,
  length: number | undefined,
  limit: number,
  decoder: Decoder | undefined,
): Promise<Uint8Array> {
  const { body } = request;
  if (!body) return new Uint8Array(0);
  if (encoding === "identity" && length !== undefined && length > limit) {
    await discard(body);
    throw new WebhookError("entity.too.large");
  }

  const inflate = inflater(encoding, decoder);
  // The body stays uncancelled when the inflation stops, so that its rest can be discarded as sent.
  const piped = inflate && body.pipeTo(inflate.writable, { preventCancel: true }).catch(() => {});
  const reader: ReadableStreamDefaultReader<Uint8Array> = (inflate?.readable ?? body).getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch {
      // A body that does not inflate is the client's mistake; otherwise the client went away.
      throw new WebhookError(inflate ? "request.invalid" : "request.aborted");
    }
    if (chunk.done) break;
    received += chunk.value.byteLength;
    if (received > limit) {
      if (inflate) {
        await reader.cancel().catch(() => {});
        await piped;
        await discard(body);
      } else {
        reader.releaseLock();
        await discard(body);
      }
      throw new WebhookError("entity.too.large");
    }
    chunks.push(chunk.value);
  }
  if (!inflate && length !== undefined && received !== length) throw new WebhookError("request.invalid");
  return joined(chunks, received);
}

const DIGITS = /^\d+$/;

/**
 * A plain body of a declared length within the limit, read whole by the runtime: the server that
 * framed the request reads no more than its Content-Length, so nothing past the limit is kept, and
 * the runtime's own read skips what `request.body` costs where the Request is a lazy bridge over
 * another server's (@hono/node-server's builds a whole web Request and a web stream for it, where
 * its `arrayBuffer()` reads Node's stream directly). The answers are the streamed read's: a
 * Request built in-process may say any length, and the same bytes give the same refusal.
 */
async function readDeclared(request: Request, length: number, limit: number): Promise<Uint8Array> {
  let bytes: ArrayBuffer;
  try {
    bytes = await request.arrayBuffer();
  } catch (err) {
    // A stream locked by someone else is refused unread (a programming error, as getReader()'s throw
    // is on the streamed read); a read that started and failed is the client going away.
    if (!request.bodyUsed) throw err;
    throw new WebhookError("request.aborted");
  }
  const received = bytes.byteLength;
  if (received > limit) throw new WebhookError("entity.too.large");
  // A Request without a body reads as empty whatever its headers say, as the streamed read has it.
  if (received !== length && !(received === 0 && request.body === null)) throw new WebhookError("request.invalid");
  return new Uint8Array(bytes);
}

/** Said once: every delivery to this provider will be refused until `ip` is passed. */
function missingIp(provider: string): string {
  return (
    `imagegen-webhooks: providers.${provider}.allowedIps is set, but webhooks.fetch() was given no \`ip\`, so its deliveries are answered 403: ` +
    "a web Request carries no sender's address. Pass it: webhooks.fetch(request, { ip }) (Bun's server.requestIP(request)?.address, " +
    "Deno's info.remoteAddr.hostname, a Worker's CF-Connecting-IP header, or what your own proxy forwards)."
  );
}

/** The web-standard adapter: route, method, raw body; then the pipeline. It always answers: there is no `next` here. */
export function createFetchHandler(receiver: Receiver, decoder?: Decoder): FetchHandler {
  const { providers, routes, limit, logger } = receiver.options;

  function find(pathname: string, options: FetchOptions): ResolvedProvider | undefined {
    if (options.provider === undefined) {
      const path = routePath(pathname, options.basePath);
      return path === undefined ? undefined : routes.get(path);
    }
    const provider = providers.get(options.provider);
    if (!provider) {
      logger.error(
        { provider: options.provider },
        `imagegen-webhooks: webhooks.fetch() was given provider "${printable(String(options.provider))}", which createWebhooks() does not configure; answered 404`,
      );
    }
    return provider;
  }

  return async function imagegenWebhooksFetch(request, options = {}) {
    const { pathname, search } = urlParts(request.url);
    const config = find(pathname, options);
    if (!config) return toResponse(notFound(receiver));
    if (config.allowedIps && options.ip === undefined) warnOnce(logger, missingIp(config.name), "warn", receiver);
    const refused = admit(receiver, config, { method: request.method, ip: options.ip });
    if (refused) return toResponse(refused);
    try {
      let rawBody: Uint8Array;
      try {
        rawBody = await readBody(request, limit, logger, decoder);
      } catch (err) {
        if (!(err instanceof WebhookError)) throw err;
        // As in the middleware: a body consumed upstream is the application's mistake, not an invalid delivery.
        return toResponse(err.code === "body.unavailable" ? problemAnswer(err) : refuse(receiver, config.name, err));
      }
      const { waitUntil } = options;
      const answer = await receiveBody(receiver, config, { headers: request.headers, rawBody, query: search, waitUntil });
      return toResponse(answer);
    } catch (err) {
      logger.error({ err, provider: config.name }, "imagegen-webhooks: unexpected failure; answered 500");
      return toResponse(problemAnswer(new WebhookError("receiver.failed")));
    }
  };
}
