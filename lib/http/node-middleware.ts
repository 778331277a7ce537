import type { IncomingMessage, ServerResponse } from "node:http";
import bodyParser from "body-parser";
import { WebhookError, type WebhookErrorCode } from "../errors";
import { problemAnswer, type WebhookResponse } from "../pipeline/answer";
import { receive, refuse, type ReceiverState } from "../pipeline/receive";
import { bodyFromEarlierParser, warnOnce } from "./earlier-parser";
import type { ResolvedProvider } from "../options";
import { checkSourceIp } from "../pipeline/source-ip";

const UNSIGNABLE_BODY =
  "imagegen-webhooks: a body parser mounted before this middleware consumed the request without keeping its raw bytes, " +
  "so a signature cannot be checked (answered 500). Mount the webhooks middleware before express.json() / express.text(), " +
  "or keep the bytes: express.json({ verify: (req, _res, buf) => { req.rawBody = buf } }).";

/** Express (4 and 5) mounts it with `app.use`; `http.createServer` takes it as it is, with no `next`. */
export type NodeMiddleware = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

/** body-parser's error words, as this package's. */
const READ_ERRORS: Record<string, WebhookErrorCode> = {
  "entity.too.large": "entity.too.large",
  "request.aborted": "request.aborted",
  "request.size.invalid": "request.invalid",
  "encoding.unsupported": "encoding.unsupported",
};

/**
 * A read failure the client caused is its own 4xx, never a 500 that the provider would retry
 * forever: body-parser gives a body that claims gzip but does not inflate a status 400 and no type.
 */
function readErrorCode(err: { type?: string; status?: number } | undefined): WebhookErrorCode | undefined {
  if (!err) return undefined;
  const known = typeof err.type === "string" ? READ_ERRORS[err.type] : undefined;
  if (known) return known;
  return typeof err.status === "number" && err.status >= 400 && err.status < 500 ? "request.invalid" : undefined;
}

function splitUrl(url: string): { pathname: string; search: string } {
  const q = url.indexOf("?");
  return q === -1 ? { pathname: url, search: "" } : { pathname: url.slice(0, q), search: url.slice(q + 1) };
}

function write(res: ServerResponse, answer: WebhookResponse): void {
  if (res.headersSent) return;
  // Node joins a string body to the head in one chunk; a Buffer would be copied here and sent as a chunk of its own.
  res.writeHead(answer.status, { ...answer.headers, "content-length": String(Buffer.byteLength(answer.body, "utf8")) });
  res.end(answer.body, "utf8");
}

const DIGITS = /^\d+$/;

/**
 * The common request (no content encoding, a Content-Length within the limit, a stream nobody has
 * touched) read directly: body-parser's generic path (on-finished and type-is checks, an
 * AsyncResource wrapper per read, debug calls) was a measured share of each delivery. Anything
 * else goes to body-parser, and the failures here carry body-parser's words, so the answers are
 * the same.
 */
function plainLength(req: IncomingMessage, limit: number): number | undefined {
  const { headers } = req;
  const encoding = headers["content-encoding"];
  if (encoding !== undefined && encoding.toLowerCase() !== "identity") return undefined;
  const length = headers["content-length"];
  if (headers["transfer-encoding"] !== undefined || length === undefined || !DIGITS.test(length)) return undefined;
  if (!req.readable || req.readableEncoding !== null) return undefined;
  const bytes = Number(length);
  return bytes <= limit ? bytes : undefined;
}

function readPlain(req: IncomingMessage, length: number, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (err: { type?: string; status?: number } | undefined) => {
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted).off("close", onAborted);
      if (err) {
        req.unpipe();
        req.pause();
        return reject(err);
      }
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return finish({ type: "entity.too.large", status: 413 });
      chunks.push(chunk);
    };
    const onEnd = () => finish(received === length ? undefined : { type: "request.size.invalid", status: 400 });
    const onError = (err: { type?: string; status?: number }) =>
      finish({ type: err.type, status: typeof err.status === "number" ? err.status : 400 });
    // Node emits `aborted` before the `error` of a client that hung up, so the reason is the one
    // body-parser gives; a close with neither, where body-parser would wait forever, is the same.
    const onAborted = () => finish({ type: "request.aborted", status: 400 });
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted).on("close", onAborted);
  });
}

/**
 * The HTTP adapter: route, method, raw body; then `receive()` does the rest. It answers only on
 * the providers' paths; anything else goes to `next()` (or `404` on a bare server).
 */
export function createNodeMiddleware(state: ReceiverState): NodeMiddleware {
  const { routes, limit, logger } = state.options;
  // body-parser reads, inflates and bounds the body; it is told to take every content type so that
  // the 415 comes from the pipeline, after the body is read, as the design orders the steps.
  const readRaw = bodyParser.raw({ type: () => true, limit, inflate: true });

  function readBody(req: IncomingMessage, res: ServerResponse, config: ResolvedProvider): Promise<Buffer> {
    const earlier = bodyFromEarlierParser(req, logger);
    if (earlier) {
      if (config.signature && !earlier.exact) {
        warnOnce(logger, UNSIGNABLE_BODY, "error");
        return Promise.reject(new WebhookError("body.unavailable"));
      }
      return Promise.resolve(earlier.bytes);
    }
    const length = plainLength(req, limit);
    if (length !== undefined) return readPlain(req, length, limit);
    return new Promise((resolve, reject) => {
      readRaw(req, res, (err?: unknown) => {
        if (err) return reject(err);
        const body = (req as IncomingMessage & { body?: unknown }).body;
        resolve(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
      });
    });
  }

  return function imagegenWebhooksMiddleware(req, res, next) {
    const { pathname, search } = splitUrl(req.url ?? "/");
    const config = routes.get(pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname);
    if (!config) {
      if (next) return next();
      return write(res, problemAnswer(new WebhookError("route.not-found")));
    }
    if (req.method !== "POST") {
      return write(res, refuse(state, config.name, new WebhookError("method.not-allowed", { headers: { allow: "POST" } })));
    }
    // Express's req.ip honours its `trust proxy` setting; a bare server has only the socket.
    const ip = (req as IncomingMessage & { ip?: string }).ip ?? req.socket.remoteAddress;
    // A sender outside the allowlist is refused before its body is read.
    try {
      checkSourceIp(config.allowedIps, ip);
    } catch (err) {
      return write(res, refuse(state, config.name, err as WebhookError));
    }

    readBody(req, res, config)
      .then(
        (rawBody) => receive(state, { provider: config.name, headers: req.headers, rawBody, query: search, ...(ip !== undefined && { ip }) }),
        (err: { type?: string; status?: number }) => {
          if (err instanceof WebhookError) return problemAnswer(err);
          const code = readErrorCode(err);
          if (code) return refuse(state, config.name, new WebhookError(code));
          throw err;
        },
      )
      .then(
        (answer) => write(res, answer),
        (err: unknown) => {
          logger.error({ err, provider: config.name }, "imagegen-webhooks: unexpected failure; answered 500");
          write(res, problemAnswer(new WebhookError("receiver.failed")));
        },
      );
  };
}
