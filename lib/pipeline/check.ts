import { utf8Length } from "../text/encoding";
import { WebhookError } from "../errors";
import type { HeadersInput, QueryInput } from "../http/headers";
import { SignatureRejection } from "../signatures/scheme";
import { isThenable } from "../async/thenable";
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
  /**
   * Where the platform keeps work alive after the answer (a Worker's `ctx.waitUntil`): listeners
   * still running when the provider is answered `202` are handed to it.
   */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** A delivery that passed every check: its parsed and validated payload. */
export interface Checked {
  payload: unknown;
}

/**
 * Steps 2 to 6 of a delivery, in the README's order: size, content type, authentication, JSON,
 * schema. Returns the payload, or throws the `WebhookError` to answer. Synchronous with
 * node:crypto; with Web Crypto, a promise from the authentication on.
 */
export function checkBody(options: ResolvedOptions, provider: ResolvedProvider, input: BodyInput): Checked | Promise<Checked> {
  const { rawBody } = input;
  if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) {
    throw new TypeError("receive() takes the body as it was received, in rawBody: a Buffer, a Uint8Array or a string");
  }
  const size = typeof rawBody === "string" ? utf8Length(rawBody) : rawBody.byteLength;
  if (size > options.limit) throw new WebhookError("entity.too.large");
  checkContentType(input.headers);
  const token = provider.token?.verify(input.headers, input.query);
  if (isThenable(token)) return token.then(() => checkSigned(provider, input));
  return checkSigned(provider, input);
}

function checkSigned(provider: ResolvedProvider, input: BodyInput): Checked | Promise<Checked> {
  let signed: void | Promise<void>;
  try {
    signed = provider.signature?.verify(input.headers, input.rawBody);
  } catch (err) {
    throw asWebhookError(err);
  }
  if (isThenable(signed)) {
    return signed.then(
      () => parseAndValidate(provider, input.rawBody),
      (err: unknown) => {
        throw asWebhookError(err);
      },
    );
  }
  return parseAndValidate(provider, input.rawBody);
}

/** A scheme's refusal (lib/signatures, below the errors' layer) as the answer of the same code. */
function asWebhookError(err: unknown): unknown {
  if (!(err instanceof SignatureRejection)) return err;
  return new WebhookError(err.code, { ...(err.headers && { headers: err.headers }), ...(err.detail && { detail: err.detail }) });
}

function parseAndValidate(provider: ResolvedProvider, rawBody: Uint8Array | string): Checked {
  const payload = parseJson(rawBody);
  provider.validate(payload);
  return { payload };
}
