import { isProviderName, providers, type ProviderName, type ProviderPayloads } from "../../providers/index";
import type { AnyProvider } from "../../providers/provider";
import type { ProviderTesting } from "../../providers/provider-testing";
import * as testingHalves from "../../providers/testing-exports";

/** A provider's name as its testing half names its hooks: `all-images` → `allImages` (`allImagesTesting`). */
type CamelCase<Name extends string> = Name extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : Name;
const camelCase = (name: string) => name.replace(/-(.)/g, (_, letter: string) => letter.toUpperCase());
type HooksName<P extends ProviderName> = `${CamelCase<P>}Testing`;

/** Typed over every built-in name: a built-in provider without its hooks, simulation included, does not compile. */
type BuiltInTesting = {
  readonly [P in ProviderName]: Required<Omit<ProviderTesting<ProviderPayloads[P]>, "tokenIn" | "signedHeaders">> &
    Pick<ProviderTesting<ProviderPayloads[P]>, "tokenIn" | "signedHeaders">;
};

/** The built-in providers' testing hooks, by name, in the list's order: each one's testing half's `<name>Testing`. */
const builtInTesting = Object.fromEntries(
  Object.keys(providers).map((name) => [name, testingHalves[`${camelCase(name)}Testing` as HooksName<ProviderName>]]),
) as { readonly [P in ProviderName]: (typeof testingHalves)[HooksName<P>] } satisfies BuiltInTesting;

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
