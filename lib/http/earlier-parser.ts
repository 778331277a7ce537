import type { IncomingMessage } from "node:http";
import type { Logger } from "../logger";

type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

const said = new WeakMap<Logger, Set<string>>();

/** A body an earlier parser left: `exact` when these are the bytes as received, which a signature needs. */
export interface EarlierBody {
  bytes: Buffer;
  exact: boolean;
}

/**
 * The body, when a parser mounted before this middleware (`express.json()`, `express.raw()`,
 * `express.text()`, `express.urlencoded()`) has already read the stream: its raw bytes where it
 * kept them (`req.rawBody`, the usual name in a `verify` callback, or a Buffer body), else the
 * parsed value re-serialized, which is enough for token authentication and the schema but not
 * for a signature. `undefined` means: nothing read it, read it yourself.
 */
export function bodyFromEarlierParser(req: IncomingMessage, logger: Logger): EarlierBody | undefined {
  const parsed = req as ParsedRequest;
  if (parsed._body !== true && !parsed.readableEnded) return undefined;
  const { rawBody, body } = parsed;
  if (Buffer.isBuffer(rawBody)) return { bytes: rawBody, exact: true };
  if (Buffer.isBuffer(body)) return { bytes: body, exact: true };
  // A decoded string may not give back the bytes it came from (a BOM dropped, invalid UTF-8 replaced).
  if (typeof rawBody === "string") return { bytes: Buffer.from(rawBody, "utf8"), exact: false };
  if (typeof body === "string") return { bytes: Buffer.from(body, "utf8"), exact: false };
  if (body !== undefined) {
    warnOnce(
      logger,
      "imagegen-webhooks: a body parser mounted before this middleware consumed the request; the parsed body is re-serialized. " +
        "Mount the webhooks middleware before express.json(), or keep the raw bytes in req.rawBody with express.json({ verify }).",
    );
    return { bytes: Buffer.from(JSON.stringify(body), "utf8"), exact: false };
  }
  return { bytes: Buffer.alloc(0), exact: false };
}

/** Said once per logger: a misconfiguration repeats on every delivery, and the log need not. */
export function warnOnce(logger: Logger, message: string, level: "warn" | "error" = "warn"): void {
  const messages = said.get(logger) ?? new Set<string>();
  if (messages.has(message)) return;
  said.set(logger, messages.add(message));
  logger[level]({}, message);
}
