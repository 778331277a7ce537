import type { IncomingMessage } from "node:http";
import type { Logger } from "../logger";

type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

const warned = new WeakSet<Logger>();

/**
 * The body, when a parser mounted before this middleware (`express.json()`, `express.raw()`,
 * `express.text()`) has already read the stream: its raw bytes where it kept them (`req.rawBody`,
 * the usual name in a `verify` callback, or a Buffer body), else the parsed value re-serialized,
 * which is enough for token authentication and the schema. `undefined` means: read it yourself.
 */
export function bodyFromEarlierParser(req: IncomingMessage, logger: Logger): Buffer | undefined {
  const parsed = req as ParsedRequest;
  if (parsed._body !== true && !parsed.readableEnded) return undefined;
  const { rawBody, body } = parsed;
  if (Buffer.isBuffer(rawBody)) return rawBody;
  if (typeof rawBody === "string") return Buffer.from(rawBody, "utf8");
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body !== undefined) {
    if (!warned.has(logger)) {
      warned.add(logger);
      logger.warn(
        {},
        "imagegen-webhooks: a body parser mounted before this middleware consumed the request; the parsed body is re-serialized. " +
          "Mount the webhooks middleware before express.json(), or keep the raw bytes in req.rawBody with express.json({ verify }).",
      );
    }
    return Buffer.from(JSON.stringify(body), "utf8");
  }
  return Buffer.alloc(0);
}
