// lib/pipeline/read-back-fetch.ts: what keeps a read-back (the reconciler's, a completion's) to the generation asked for and to the
// provider's API: the ids it may ask about, and the `fetch` a provider's fetchGeneration is given,
// which keeps the API credential at the API's origin and bounds the answer's size and time.
// Imports the providers' API error.
import type { Logger } from "../logging/logger";
import { ProviderApiError } from "../providers/provider-api";

/** The largest read-back answer, unless `reconcile.maxBytes` says otherwise: far above any generation's. */
export const DEFAULT_READ_BACK_MAX_BYTES = 1024 * 1024;
/** The longest id read back: ids come from webhooks, and no provider's is near it. */
export const MAX_GENERATION_ID_LENGTH = 256;
/** Same-origin hops followed, as an API moving a path needs; a loop stops here. */
const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 204, 205, 304]);

/**
 * Whether `id` may be read back: one path segment, once encoded, that a URL parser keeps as it is
 * (`.` and `..` would climb the API's paths, an empty one would read its listing).
 */
export function isReadableId(id: unknown): id is string {
  return typeof id === "string" && id !== "" && id !== "." && id !== ".." && id.length <= MAX_GENERATION_ID_LENGTH;
}

export interface ReadBackBounds {
  maxBytes: number;
  /** The read-back's deadline: it covers every hop and the answer's body, whatever signal the provider passes. */
  signal: AbortSignal;
  /** Told of a redirect that was not followed, with where it led (its origin) when the runtime shows it. */
  refusedRedirect(location: string | undefined): void;
}

/**
 * `fetch` as a read-back may use it: redirects within the API's origin followed (a few), one to
 * another origin refused, since the request carries the API credential (`Authorization` is dropped
 * across origins by some runtimes, a provider's own header such as `api-key` by none); the answer's
 * body cut at `maxBytes`, a larger `Content-Length` refused before it is read.
 */
export function readBackFetch(fetch: typeof globalThis.fetch, bounds: ReadBackBounds): typeof globalThis.fetch {
  return async (input, init) => {
    let request = new Request(input, init);
    const signal = eitherSignal(request.signal, bounds.signal);
    for (let hop = 0; ; hop++) {
      const response = await fetch(request, { redirect: "manual", signal });
      const location = response.headers.get("location");
      const opaque = response.type === "opaqueredirect";
      if (!opaque && !(REDIRECT_STATUSES.has(response.status) && location !== null)) return bounded(response, bounds.maxBytes);
      await response.body?.cancel().catch(() => {});
      const next = opaque ? undefined : parseLocation(location!, request.url);
      if (next?.origin !== new URL(request.url).origin) {
        bounds.refusedRedirect(next?.origin);
        throw new ProviderApiError("the API redirected the read-back to another origin, where its credential is not sent", response.status);
      }
      if (hop === MAX_REDIRECTS) throw new ProviderApiError(`the API answered more than ${MAX_REDIRECTS} redirects`, response.status);
      request = new Request(next, request);
    }
  };
}

function parseLocation(location: string, base: string): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

/** Aborted when either is (AbortSignal.any is not in every Node 20). */
function eitherSignal(a: AbortSignal, b: AbortSignal): AbortSignal {
  const controller = new AbortController();
  for (const signal of [a, b]) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** The answer with its body counted as it streams, failing past `maxBytes`: memory never holds more. */
function bounded(response: Response, maxBytes: number): Response {
  const tooLarge = (size = "") => new ProviderApiError(`the API's answer is ${size}over reconcile.maxBytes (${maxBytes})`, response.status);
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    void response.body?.cancel().catch(() => {});
    throw tooLarge(`${declared} bytes, `);
  }
  if (response.body === null || NULL_BODY_STATUSES.has(response.status)) return response;
  let bytes = 0;
  const counted = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** What one call to a provider's API is bounded by, and where a refused redirect is told. */
export interface ApiCall {
  provider: string;
  generation: string;
  baseUrl: string;
  timeoutMs: number;
  maxBytes: number;
  logger: Logger;
}

/**
 * Runs `call` with a bounded fetch (no redirect to another origin, at most `maxBytes` read) and a
 * deadline that holds whatever `call` does with its signal. Every failure is a `ProviderApiError`,
 * so that the reconciler retries it and a completion answers it as the API's fault.
 */
export async function callProviderApi<T>(
  { provider, generation, baseUrl, timeoutMs, maxBytes, logger }: ApiCall,
  call: (fetch: typeof globalThis.fetch, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  const fetch = readBackFetch(globalThis.fetch, {
    maxBytes,
    signal,
    refusedRedirect: (location) =>
      logger.warn(
        { provider, generation, location },
        `imagegen-webhooks: ${provider}'s API redirected a read-back to another origin: not followed, its credential is only sent to ${baseUrl}`,
      ),
  });
  const late = () => new ProviderApiError(`the API did not answer within ${timeoutMs} ms`, 0);
  const deadline = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(late()), { once: true }));
  try {
    return await Promise.race([call(fetch, signal), deadline]);
  } catch (err) {
    if (err instanceof ProviderApiError) throw err;
    if (signal.aborted) throw late();
    throw new ProviderApiError(`the API could not be reached: ${err instanceof Error ? err.message : String(err)}`, 0);
  }
}
