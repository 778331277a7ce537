import type { Attributes } from "@opentelemetry/api";
import type { Telemetry } from "./telemetry";

/**
 * The counters other parts of the package record into (image keeping, reconciliation), declared
 * here so that every name and unit is in one place: `count(receiver.telemetry, "images.kept", n,
 * { [ATTR.provider]: name })`. A new count is a new line below.
 */
export const COUNTS = {
  "images.kept": { unit: "{image}", description: "Images copied into the host's storage." },
  "images.failed": { unit: "{image}", description: "Images that could not be copied." },
  "reconcile.checked": { unit: "{generation}", description: "Generations the reconciliation asked their provider about." },
  "reconcile.recovered": { unit: "{generation}", description: "Generations whose missed delivery the reconciliation made up for." },
} as const satisfies Record<string, { unit: string; description: string }>;

export type CountName = keyof typeof COUNTS;

/** Adds `value` to the count `name` (`imagegen_webhooks.<name>`); nothing while no SDK is registered. */
export function count(telemetry: Telemetry | undefined, name: CountName, value = 1, attributes?: Attributes): void {
  if (!telemetry) return;
  let counter = telemetry.counters.get(name);
  if (!counter) {
    counter = telemetry.meter.createCounter(`imagegen_webhooks.${name}`, COUNTS[name]);
    telemetry.counters.set(name, counter);
  }
  counter.add(value, attributes);
}
