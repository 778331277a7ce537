// lib/options/checks.ts: the checks every option of the package goes through at start-up (createWebhooks's,
// keepImages's, the stores', the inbox's); what they throw is errors/config-error.ts's ConfigError.
import { ConfigError } from "../errors/config-error";

export { ConfigError };

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A misspelt option would otherwise be ignored in silence, and its default used. `by` is ConfigError's `where`. */
export function rejectUnknownKeys(object: Record<string, unknown>, known: string[], where: string, by?: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new ConfigError(`unknown option "${key}" ${where}: the options are ${known.join(", ")}`, by);
  }
}

/** A number above zero and finite: a size, a tolerance, a delay. */
export function isPositiveNumber(value: unknown): value is number {
  return typeof value === "number" && value > 0 && Number.isFinite(value);
}

/** A whole number from `min` up: a count, a number of attempts. */
export function isWholeNumber(value: unknown, min = 1): value is number {
  return Number.isInteger(value) && (value as number) >= min;
}
