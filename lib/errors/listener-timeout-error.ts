/**
 * The listeners outlived `handlerTimeoutMs` in a worker: the reason `event.signal` is aborted with,
 * and the failed attempt's error. Named as the reason of `AbortSignal.timeout()` is, but an `Error`
 * of this realm, as the inbox keeps only errors.
 */
export class ListenerTimeoutError extends Error {
  constructor(ms: number) {
    super(`the listeners did not finish within handlerTimeoutMs (${ms} ms)`);
    this.name = "TimeoutError";
  }
}
