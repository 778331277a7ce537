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

/** The providers this package knows. A new provider is a new module and one line here. */
export const providers = {
  crazyhorse,
  "all-images": allImages,
  replicate,
  leonardo,
  bfl,
  openai,
  fal,
  ideogram,
} as const;

/** The providers this package knows, as types. */
export type BuiltInProviders = typeof providers;

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
