// lib/http/: the adapters from a server's request to the pipeline (here Node's and Express's
// (req, res, next)). They import the pipeline's entry (pipeline/index.ts) and the shared modules at
// lib/'s top, never a stage directly.
import type { IncomingMessage, ServerResponse } from "node:http";
import bodyParser from "body-parser";
import { WebhookError, type WebhookErrorCode } from "../errors";
import { admit, notFound, problemAnswer, receiveBody, refuse, type Receiver, type ResolvedProvider } from "../pipeline/index";
import type { WebhookResponse } from "./response";
import { printable } from "../text/printable";
import { isThenable } from "../async/thenable";
import { bodyFromEarlierParser, RESERIALIZED_BODY } from "./earlier-parser";
import { warnOnce } from "../logging/warn-once";

const UNSIGNABLE_BODY =
  "imagegen-webhooks: a body parser mounted before this middleware consumed the request without keeping its raw bytes, " +
  "so a signature cannot be checked (answered 500). Mount the webhooks middleware before express.json() / express.text(), " +
  "or keep the bytes: express.json({ verify: (req, _res, buf) => { req.rawBody = buf } }).";

/** The same, in the 500's problem `detail`: it names the fix, and nothing of the request. */
const UNSIGNABLE_DETAIL =
  "A body parser mounted before the webhooks middleware (e.g. express.json()) consumed the request without keeping its raw bytes, " +
  "so the signature cannot be checked. Mount the webhooks middleware before express.json(), or keep the raw bytes in req.rawBody " +
  "with express.json({ verify }).";

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
  // No writeHead: end() with a string body sets Content-Length itself and sends the head and the
  // body in one chunk, and the headers go in one by one, as writeHead would do anyway once Express
  // (or another middleware) has set one of its own.
  res.statusCode = answer.status;
  const { headers } = answer;
  for (const name in headers) res.setHeader(name, headers[name] as string);
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

type ReadFailure = { type?: string; status?: number };

function readPlain(
  req: IncomingMessage,
  length: number,
  limit: number,
  onBody: (body: Buffer) => void,
  onFail: (err: ReadFailure) => void,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let done = false;
  // Listeners stay on a request that was read to its end: it is about to be answered and dropped,
  // and removing five of them was a measured share of a small delivery.
  const fail = (err: ReadFailure) => {
    if (done) return;
    done = true;
    req.off("data", onData).off("end", onEnd);
    req.unpipe();
    req.pause();
    onFail(err);
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) return fail({ type: "entity.too.large", status: 413 });
    chunks.push(chunk);
  };
  const onEnd = () => {
    if (done) return;
    if (received !== length) return fail({ type: "request.size.invalid", status: 400 });
    done = true;
    onBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received));
  };
  // A client that hangs up makes Node emit `aborted`, then an ECONNRESET `error`, then `close`:
  // the reason is the one body-parser gives; a close with neither, where body-parser would wait
  // forever, is the same.
  const onError = (err: ReadFailure & { code?: string }) =>
    fail(err.code === "ECONNRESET" ? ABORTED : { type: err.type, status: typeof err.status === "number" ? err.status : 400 });
  const onClose = () => fail(ABORTED);
  req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
}

const ABORTED: ReadFailure = { type: "request.aborted", status: 400 };

/**
 * A mount at a provider's full path, `app.use("/webhooks/crazyhorse", …)`: Express strips the mount
 * path, so the request arrives as `/`. The provider whose path ends the mount path is meant,
 * where exactly one does; where several do, it is said how to mount instead.
 */
function mountedAtRoute(req: IncomingMessage, receiver: Receiver): ResolvedProvider | undefined {
  const { baseUrl } = req as IncomingMessage & { baseUrl?: unknown };
  const { routes, logger } = receiver.options;
  if (typeof baseUrl !== "string" || baseUrl === "") return undefined;
  const mount = baseUrl.replace(/\/+$/, "");
  const matches = [...routes.values()].filter(({ path }) => path !== "/" && (mount === path || mount.endsWith(path)));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) {
    warnOnce(
      logger,
      `imagegen-webhooks: the middleware is mounted at ${printable(mount)}, which ends with the paths of ${matches.map(({ name }) => name).join(" and ")}: ` +
        `mount it once above the providers' paths, e.g. app.use("/webhooks", webhooks.middleware()).`,
      "warn",
      receiver,
    );
  }
  return undefined;
}

/**
 * A path it cannot route that ends with a provider's route is a wrong mount (`app.use(mw)` or
 * `app.post("/webhooks/:provider", mw)` for `POST /webhooks/crazyhorse`): Express would answer only
 * its bare 404, so the mount the README shows is said, once per provider. The path itself is not
 * repeated: it is the sender's, and the log is the operator's.
 */
function warnIfMisMounted(pathname: string, receiver: Receiver): void {
  const path = pathname.replace(/\/+$/, "");
  for (const { name, path: route } of receiver.options.routes.values()) {
    if (route === "/" || path === route || !path.endsWith(route)) continue;
    warnOnce(
      receiver.options.logger,
      `imagegen-webhooks: a request reached the middleware on a path that ends with ${route}, ${name}'s route, but is not it ` +
        `(the middleware routes the path below where it is mounted, so it was not answered as ${name}'s delivery). ` +
        `Mount it as app.use("/webhooks", webhooks.middleware()), which serves POST /webhooks${route}; ` +
        `not app.use(webhooks.middleware()), app.use("/hooks", …) for another path, nor app.post("/webhooks/:provider", …).`,
      "warn",
      receiver,
    );
    return;
  }
}

/**
 * The HTTP adapter: route, method, raw body; then `receive()` does the rest. It answers only on
 * the providers' paths; anything else goes to `next()` (or `404` on a bare server).
 */
export function createNodeMiddleware(receiver: Receiver): NodeMiddleware {
  const { routes, limit, logger } = receiver.options;
  // body-parser reads, inflates and bounds the body; it is told to take every content type so that
  // the 415 comes from the pipeline, after the body is read, in the README's order of the steps.
  const readRaw = bodyParser.raw({ type: () => true, limit, inflate: true });

  /** Hands the body to `onBody`, or the reason it could not be read to `onFail`. */
  function readBody(
    req: IncomingMessage,
    res: ServerResponse,
    config: ResolvedProvider,
    onBody: (body: Buffer) => void,
    onFail: (err: ReadFailure) => void,
  ): void {
    let earlier: ReturnType<typeof bodyFromEarlierParser>;
    try {
      earlier = bodyFromEarlierParser(req);
    } catch (err) {
      return onFail(err as ReadFailure);
    }
    if (earlier) {
      // One message per mistake: a signed delivery is refused (and only that is said), a token one goes on (and that is said).
      if (config.signature && !earlier.exact) {
        warnOnce(logger, UNSIGNABLE_BODY, "error", receiver);
        return onFail(new WebhookError("body.unavailable", { detail: UNSIGNABLE_DETAIL }));
      }
      if (earlier.reserialized) warnOnce(logger, RESERIALIZED_BODY, "warn", receiver);
      return onBody(earlier.bytes);
    }
    const length = plainLength(req, limit);
    if (length !== undefined) return readPlain(req, length, limit, onBody, onFail);
    readRaw(req, res, (err?: unknown) => {
      if (err) return onFail(err);
      const body = (req as IncomingMessage & { body?: unknown }).body;
      onBody(Buffer.isBuffer(body) ? body : Buffer.alloc(0));
    });
  }

  return function imagegenWebhooksMiddleware(req, res, next) {
    const { pathname, search } = splitUrl(req.url ?? "/");
    const config =
      routes.get(pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname) ??
      (pathname === "/" ? mountedAtRoute(req, receiver) : undefined);
    if (!config) {
      warnIfMisMounted(pathname, receiver);
      if (next) return next();
      return write(res, notFound(receiver));
    }
    // The address is only read for an allowlist: Express's req.ip getter was a measured cost.
    // Express's req.ip honours its `trust proxy` setting; a bare server has only the socket.
    const ip = config.allowedIps ? ((req as IncomingMessage & { ip?: string }).ip ?? req.socket.remoteAddress) : undefined;
    const refused = admit(receiver, config, { method: req.method, ip });
    if (refused) return write(res, refused);

    const failed = (err: unknown) => {
      logger.error({ err, provider: config.name }, "imagegen-webhooks: unexpected failure; answered 500");
      write(res, problemAnswer(new WebhookError("receiver.failed")));
    };
    const answer = (response: WebhookResponse) => {
      try {
        write(res, response);
      } catch (err) {
        failed(err);
      }
    };
    readBody(
      req,
      res,
      config,
      (rawBody) => {
        let response: WebhookResponse | Promise<WebhookResponse>;
        try {
          response = receiveBody(receiver, config, { headers: req.headers, rawBody, query: search });
        } catch (err) {
          return failed(err);
        }
        if (isThenable(response)) response.then(answer, failed);
        else answer(response);
      },
      (err) => {
        // A body consumed upstream is the application's mistake, not an invalid delivery.
        if (err instanceof WebhookError)
          return answer(err.code === "body.unavailable" ? problemAnswer(err) : refuse(receiver, config.name, err));
        const code = readErrorCode(err);
        if (code) return answer(refuse(receiver, config.name, new WebhookError(code)));
        failed(err);
      },
    );
  };
}
