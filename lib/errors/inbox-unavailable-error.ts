/** The delivery could not be stored: Redis is unreachable or did not answer in time. The edge answers `503`. */
export class InboxUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InboxUnavailableError";
  }
}
