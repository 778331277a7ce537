// lib/providers/: one module per provider, everything that provider is (schema, event names,
// idempotency key, normalization, answer). Providers import the shared types at lib/'s top and
// nothing of the pipeline; the pipeline and the testing helpers loop over them.
import { allImages } from "./all-images";
import { crazyhorse } from "./crazyhorse";
import { replicate } from "./replicate";

/** The providers this package knows. A new provider is a new module and one line here. */
export const providers = {
  crazyhorse,
  "all-images": allImages,
  replicate,
} as const;

/** The providers this package knows, as types. */
export type BuiltInProviders = typeof providers;
/** The name of a provider this package knows, e.g. `crazyhorse`. */
export type ProviderName = keyof BuiltInProviders;

type TypesOf<P extends ProviderName> = NonNullable<BuiltInProviders[P]["__types"]>;
/** Each provider's delivery body, typed from its JSON Schema. */
export type ProviderPayloads = { [P in ProviderName]: TypesOf<P>["payload"] };
/** Whether a name is one of the built-in providers. */
export function isProviderName(name: string): name is ProviderName {
  return Object.prototype.hasOwnProperty.call(providers, name);
}
