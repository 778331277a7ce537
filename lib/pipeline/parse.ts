import { decodeUtf8 } from "../text/encoding";
import { WebhookError } from "../errors";

/**
 * How deeply a delivery's JSON may nest (the body itself is one level): far above any provider's
 * payload, and far below what the recursive steps after parsing (ajv, the key made from the body,
 * the copy an inbox stores) can walk before the stack runs out.
 */
export const MAX_JSON_DEPTH = 64;

/** Whether `value` holds an object or array more than `levels` levels down; never recurses deeper than that. */
function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) return value.some((item) => deeperThan(item, levels - 1));
  for (const key in value) {
    if (deeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  }
  return false;
}

/**
 * Whether `text` has more than `most` opening brackets, counted wherever they are (strings too):
 * a body with no more than that many cannot nest deeper, and the walk over the parsed value (which
 * visits every key of a large body) is skipped for it.
 */
function moreBracketsThan(text: string, most: number): boolean {
  let count = 0;
  for (let at = text.indexOf("{"); at !== -1; at = text.indexOf("{", at + 1)) if (++count > most) return true;
  for (let at = text.indexOf("["); at !== -1; at = text.indexOf("[", at + 1)) if (++count > most) return true;
  return false;
}

/** JSON text from the raw bytes; a leading byte-order mark is tolerated, as body-parser does. */
export function parseJson(rawBody: Uint8Array | string): unknown {
  let text = typeof rawBody === "string" ? rawBody : decodeUtf8(rawBody);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    // The parser's message quotes the body: it is not passed on.
    throw new WebhookError("json.malformed");
  }
  if (moreBracketsThan(text, MAX_JSON_DEPTH) && deeperThan(payload, MAX_JSON_DEPTH)) throw new WebhookError("json.too-deep");
  return payload;
}
