import type { IncomingMessage } from "node:http";
import { WebhookError } from "../errors";

type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; _body?: boolean };

/** A body an earlier parser left: `exact` when these are the bytes as received, which a signature needs. */
export interface EarlierBody {
  bytes: Buffer;
  exact: boolean;
  /** The parsed value written back as JSON: enough for a token and the schema, never for a signature. */
  reserialized?: boolean;
}

/**
 * The body, when a parser mounted before this middleware (`express.json()`, `express.raw()`,
 * `express.text()`, `express.urlencoded()`) has already read the stream: its raw bytes where it
 * kept them (`req.rawBody`, the usual name in a `verify` callback, or a Buffer body), else the
 * parsed value re-serialized, which is enough for token authentication and the schema but not
 * for a signature. `undefined` means: nothing read it, read it yourself.
 */
export function bodyFromEarlierParser(req: IncomingMessage): EarlierBody | undefined {
  const parsed = req as ParsedRequest;
  if (parsed._body !== true && !parsed.readableEnded) return undefined;
  const { rawBody, body } = parsed;
  if (Buffer.isBuffer(rawBody)) return { bytes: rawBody, exact: true };
  if (Buffer.isBuffer(body)) return { bytes: body, exact: true };
  // A decoded string may not give back the bytes it came from (a BOM dropped, invalid UTF-8 replaced).
  if (typeof rawBody === "string") return { bytes: Buffer.from(rawBody, "utf8"), exact: false };
  if (typeof body === "string") return { bytes: Buffer.from(body, "utf8"), exact: false };
  if (body !== undefined) return { bytes: Buffer.from(reserialized(body), "utf8"), exact: false, reserialized: true };
  return { bytes: Buffer.alloc(0), exact: false };
}

/** The parsed value as JSON; a value nested past what JSON.stringify can walk is refused as the pipeline refuses its text. */
function reserialized(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    if (err instanceof RangeError) throw new WebhookError("json.too-deep");
    throw err;
  }
}

/** Said when a token-authenticated delivery goes on with a re-serialized body (a signed one is refused instead). */
export const RESERIALIZED_BODY =
  "imagegen-webhooks: a body parser mounted before this middleware consumed the request; the parsed body is re-serialized. " +
  "Mount the webhooks middleware before express.json(), or keep the raw bytes in req.rawBody with express.json({ verify }).";
