import { decodeUtf8 } from "../encoding";
import { WebhookError } from "../errors";

/** JSON text from the raw bytes; a leading byte-order mark is tolerated, as body-parser does. */
export function parseJson(rawBody: Uint8Array | string): unknown {
  let text = typeof rawBody === "string" ? rawBody : decodeUtf8(rawBody);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the body: it is not passed on.
    throw new WebhookError("json.malformed");
  }
}
