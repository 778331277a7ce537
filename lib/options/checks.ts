// lib/options/checks.ts: the small checks every module of lib/options/ shares, and the one error
// they throw.

/** A bad option, thrown by `createWebhooks` at start-up: a `TypeError` whose message names the package. */
export class ConfigError extends TypeError {
  constructor(message: string) {
    super(`imagegen-webhooks: ${message}`);
    this.name = "ConfigError";
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A misspelt option would otherwise be ignored in silence, and its default used. */
export function rejectUnknownKeys(object: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new ConfigError(`unknown option "${key}" ${where}: the options are ${known.join(", ")}`);
  }
}

/** A number above zero and finite: a size, a tolerance, a delay. */
export function isPositiveNumber(value: unknown): value is number {
  return typeof value === "number" && value > 0 && Number.isFinite(value);
}
