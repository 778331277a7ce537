import { allImages } from "./all-images";
import { crazyhorse } from "./crazyhorse";

/** The providers this package knows. A new provider is a new module and one line here. */
export const providers = {
  crazyhorse,
  "all-images": allImages,
} as const;

type Providers = typeof providers;
export type ProviderName = keyof Providers;

type TypesOf<P extends ProviderName> = NonNullable<Providers[P]["__types"]>;
export type ProviderPayloads = { [P in ProviderName]: TypesOf<P>["payload"] };
export type ProviderEventPayloads = { [P in ProviderName]: TypesOf<P>["events"] };

export function isProviderName(name: string): name is ProviderName {
  return Object.prototype.hasOwnProperty.call(providers, name);
}
