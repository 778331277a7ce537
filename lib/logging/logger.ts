/** The subset of pino (and of most structured loggers) this package calls. */
export interface Logger {
  /** A duplicate delivery dropped. Each method takes the details first and the message second, as pino does. */
  debug(obj: object, msg?: string): void;
  /** A delivery refused, with its reason (never a secret or the body). */
  info(obj: object, msg?: string): void;
  /** Something that works but needs a look: listeners past `handlerTimeoutMs`, a store failure under `dedupeFailOpen`. */
  warn(obj: object, msg?: string): void;
  /** A failure: a listener's (when no `error` listener takes it), the dedupe store's, or an unexpected one answered `500`. */
  error(obj: object, msg?: string): void;
}

const noop = () => {};

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
