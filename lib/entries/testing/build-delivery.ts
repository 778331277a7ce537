import type { ProviderName, ProviderPayloads } from "../../providers/index";
import type { Provider } from "../../providers/provider";
import { providerTesting, type TestedProvider } from "./provider-hooks";

/**
 * A valid delivery for a provider, with fresh ids: `buildDelivery("crazyhorse", { state: "WAITING" })`,
 * or for a provider of your own, the object `defineProvider` returned, given `testing` hooks.
 */
export function buildDelivery<P extends ProviderName>(provider: P, overrides?: Partial<ProviderPayloads[P]>): ProviderPayloads[P];
export function buildDelivery<Payload>(provider: Provider<string, Payload, Record<string, Payload>>, overrides?: Partial<Payload>): Payload;
export function buildDelivery(provider: TestedProvider, overrides: Record<string, unknown> = {}): unknown {
  return providerTesting(provider, "buildDelivery").testing.example(overrides);
}
