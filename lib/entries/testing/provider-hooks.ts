import { isProviderName, providers, type ProviderName } from "../../providers/index";
import type { AnyProvider } from "../../providers/provider";
import type { ProviderTesting } from "../../providers/provider-testing";
import { builtInTesting } from "../../providers/testing-exports";

/** The providers whose jobs `simulateJob` plays by name: every built-in one. */
export const simulatedProviders = Object.keys(builtInTesting) as readonly ProviderName[];

/** A provider the testing helpers take: a built-in one by name, or any provider object (a user's from `defineProvider`). */
export type TestedProvider = ProviderName | AnyProvider;

/** What the testing helpers need of a provider: its testing hooks, or with `simulate` those and its simulation. */
export type TestingNeed = "example" | "simulate";

/**
 * A provider's name and testing hooks. Throws, with what to add, for a name that is not built in and
 * for a provider without the hooks `need` asks for: never another provider's hooks in their place.
 */
export function providerTesting(
  provider: TestedProvider,
  caller: string,
  need: TestingNeed = "example",
): { name: string; testing: ProviderTesting<unknown> } {
  const name = typeof provider === "string" ? provider : provider?.name;
  if (typeof name !== "string") throw new TypeError(`${caller}: give a provider's name or the provider defineProvider() returned`);
  if (typeof provider === "string" && !isProviderName(name)) {
    const builtIn = Object.keys(builtInTesting).join(", ");
    throw new RangeError(
      `${caller}: "${name}" is not a built-in provider (${builtIn}); for one of your own, pass the provider that defineProvider() returned`,
    );
  }
  const testing = hooksOf(provider);
  const add = (what: string) => `add \`${what}\` to its defineProvider() definition`;
  if (testing === undefined) {
    const hooks = need === "simulate" ? "{ eventField, example, simulate }" : "{ eventField, example }";
    throw new TypeError(`${caller}: provider "${name}" has no testing hooks: ${add(`testing: ${hooks}`)}`);
  }
  if (need === "simulate" && testing.simulate === undefined) {
    throw new TypeError(`${caller}: provider "${name}" has no simulation: ${add("testing.simulate")}`);
  }
  return { name, testing: testing };
}

function hooksOf(provider: TestedProvider): ProviderTesting<unknown> | undefined {
  if (typeof provider === "string") return builtInTesting[provider];
  if (provider.testing !== undefined) return provider.testing as ProviderTesting<unknown>;
  // The built-in provider objects carry no hooks (they stay out of the main entry): find theirs.
  const { name } = provider;
  return isProviderName(name) && providers[name] === provider ? builtInTesting[name] : undefined;
}
