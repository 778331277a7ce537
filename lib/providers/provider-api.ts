/**
 * What a provider's `fetchGeneration` gets: where the provider's API is and how to call it. The
 * receiver fills it from the provider's options (its credential's option, `apiBaseUrl`).
 */
export interface ProviderApi {
  /** The API's origin, e.g. `https://api.replicate.com`; the `/v1/…` paths are appended to it. */
  baseUrl: string;
  /** The API credential from the provider's options. */
  credential: string;
  /** The credential in the header the provider declares (`credential`), ready to send; empty where it declares none. */
  headers: Record<string, string>;
  /** The runtime's `fetch`. */
  fetch: typeof fetch;
  /** Aborted when the receiver's time for one read-back runs out. */
  signal: AbortSignal;
  /**
   * Where the generation was submitted, for a provider whose read-back needs it and whose webhook
   * does not say (fal.ai's app, e.g. `fal-ai/flux/dev`): known from a tracked generation; else unset.
   */
  app?: string;
}

/** The provider's API answered with an error, or with a body that is not JSON. */
export class ProviderApiError extends Error {
  /** The HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** How long the API asked to wait (a 429's or 503's `Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;

  constructor(message: string, status: number, retryAfterMs?: number) {
    super(message);
    this.name = "ProviderApiError";
    this.status = status;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** GETs `path` from the provider's API and parses its JSON; any other answer throws a `ProviderApiError`. */
export async function getJson(api: ProviderApi, path: string, headers: Record<string, string>): Promise<unknown> {
  const url = api.baseUrl.replace(/\/+$/, "") + path;
  const response = await api.fetch(url, { headers: { accept: "application/json", ...headers }, signal: api.signal });
  if (!response.ok) {
    // The body of an error is not read into the message: it may echo what was sent.
    await response.body?.cancel().catch(() => {});
    throw new ProviderApiError(
      `the API answered ${response.status} for ${path}`,
      response.status,
      retryAfterMs(response.headers.get("retry-after")),
    );
  }
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderApiError(`the API answered ${path} with a body that is not JSON`, response.status);
  }
}
