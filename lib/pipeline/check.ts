import { WebhookError } from "../errors";
import type { HeadersInput, QueryInput } from "../headers";
import { authenticate } from "./authenticate";
import { checkContentType } from "./content-type";
import { parseJson } from "./parse";
import type { ResolvedOptions, ResolvedProvider } from "./receiver";

/** What the checks read of a request once its body is in. */
export interface BodyInput {
  headers?: HeadersInput;
  /** The body exactly as received. */
  rawBody: Uint8Array | string;
  /** The query string or its parameters (where the `token` may be). */
  query?: QueryInput;
}

/**
 * Steps 2 to 6 of a delivery, in the README's order: size, content type, authentication, JSON,
 * schema. Returns the payload, or throws the `WebhookError` to answer.
 */
export function checkBody(options: ResolvedOptions, provider: ResolvedProvider, input: BodyInput): unknown {
  const { rawBody } = input;
  if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) {
    throw new TypeError("receive() takes the body as it was received, in rawBody: a Buffer, a Uint8Array or a string");
  }
  const size = typeof rawBody === "string" ? Buffer.byteLength(rawBody) : rawBody.byteLength;
  if (size > options.limit) throw new WebhookError("entity.too.large");
  checkContentType(input.headers);
  authenticate(provider.secretDigests, input.headers, input.query);
  provider.signature?.verify(input.headers, rawBody);
  const json = parseJson(rawBody);
  provider.validate(json);
  return json;
}
