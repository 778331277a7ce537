// lib/providers/: one module per provider, everything that provider is (schema, event names,
// idempotency key, normalization, answer, authentication, API credential and read-back, CLI help).
// Every layer above loops over this list and names no provider (eslint.config.mjs's LAYERS, checked by import-x/no-restricted-paths).
import { allImages } from "./all-images";
import { bfl } from "./bfl";
import { crazyhorse } from "./crazyhorse";
import { leonardo } from "./leonardo";
import { openai } from "./openai";
import { fal } from "./fal";
import { ideogram } from "./ideogram";
import { replicate } from "./replicate";
import type { AnyProvider } from "./provider";

/**
 * The providers this package knows, in the order the CLI and the messages list them: the one list.
 * A new provider is its module (and its `<name>.testing.ts`) and one entry here; the record below,
 * the types, the testing hooks and the entries' lists follow from it.
 */
const BUILT_IN = [crazyhorse, allImages, replicate, leonardo, bfl, openai, fal, ideogram] as const;

/** A list of providers as a record by each one's own name, e.g. `{ crazyhorse, "all-images": allImages }`. */
type ByName<List extends readonly AnyProvider[]> = { readonly [P in List[number] as P["name"]]: P };

/** The providers this package knows, as types. */
export type BuiltInProviders = ByName<typeof BUILT_IN>;

/** The providers this package knows, by name. */
export const providers = Object.fromEntries(BUILT_IN.map((provider) => [provider.name, provider])) as BuiltInProviders;

// The exported event types are typed by the built-in providers unless told otherwise: they learn
// them here, so that they import no provider.
declare module "../generations/generation" {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface KnownProviders extends BuiltInProviders {}
}
/** The name of a provider this package knows, e.g. `crazyhorse`. */
export type ProviderName = keyof BuiltInProviders;

type TypesOf<P extends ProviderName> = NonNullable<BuiltInProviders[P]["__types"]>;
/** Each provider's delivery body, typed from its JSON Schema. */
export type ProviderPayloads = { [P in ProviderName]: TypesOf<P>["payload"] };
/** Whether a name is one of the built-in providers. */
export function isProviderName(name: string): name is ProviderName {
  return Object.prototype.hasOwnProperty.call(providers, name);
}
