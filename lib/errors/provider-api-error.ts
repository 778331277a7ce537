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
