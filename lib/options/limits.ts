// lib/options/limits.ts: how much one delivery may take, `limit` (the body's bytes) and
// `handlerTimeoutMs` (the listeners' time before the provider is answered), with their defaults.
import bytes from "bytes";
import { ConfigError, isPositiveNumber } from "./checks";

const DEFAULT_LIMIT = "100kb";
/** Under the 10 s most senders wait. */
const DEFAULT_HANDLER_TIMEOUT_MS = 9000;

/** What `bytes.parse` reads exactly; it would read "2MiB" as 2 bytes, silently. */
const SIZE = /^\s*\d+(?:\.\d+)?\s*(?:b|kb|mb|gb|tb|pb)?\s*$/i;

export function resolveLimit(given: number | string | undefined): number {
  const limit = given ?? DEFAULT_LIMIT;
  const parsed = typeof limit === "number" ? limit : SIZE.test(limit) ? bytes.parse(limit) : NaN;
  if (!isPositiveNumber(parsed)) {
    throw new ConfigError(
      `limit must be a positive number of bytes or a size such as "100kb" or "1mb" (units b, kb, mb, gb, tb), got ${JSON.stringify(limit)}`,
    );
  }
  return Math.floor(parsed);
}

export function resolveHandlerTimeout(given: number | undefined): number {
  const ms = given ?? DEFAULT_HANDLER_TIMEOUT_MS;
  // Not isPositiveNumber: Infinity has always passed here, and settleWithin reads it as no timeout;
  // refusing it now would break a configuration that starts today.
  if (typeof ms !== "number" || !(ms > 0) || Number.isNaN(ms)) {
    throw new ConfigError(`handlerTimeoutMs must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return ms;
}
