// lib/options/providers.ts: which providers a receiver serves: the built-in ones and the user's own
// (`customProviders`), each configured one resolved (./provider.ts) and given a route of its own.
import { providers as builtInProviders } from "../providers/index";
import type { AnyProvider } from "../providers/provider";
import type { Platform } from "../platform/platform";
import type { Logger } from "../logging/logger";
import type { ResolvedProvider } from "../pipeline/index";
import { ConfigError, isObject } from "./checks";
import { resolveProvider } from "./provider";

/** The top-level options that say which providers there are, as given. */
interface GivenProviders {
  providers: unknown;
  customProviders?: unknown;
  allowUnauthenticated?: boolean;
}

/** Each configured provider by name, and again by its route. */
export function resolveProviders(
  options: GivenProviders,
  platform: Platform,
  logger: Logger,
): { providers: Map<string, ResolvedProvider>; routes: Map<string, ResolvedProvider> } {
  const known = knownProviders(options.customProviders);
  const names = [...known.keys()].join(", ");
  const configured = options.providers;
  if (!isObject(configured) || Object.keys(configured).length === 0) {
    throw new ConfigError(
      `name at least one provider in "providers", e.g. { providers: { crazyhorse: { secret: "…" } } }; the providers are ${names}`,
    );
  }

  const resolved = new Map<string, ResolvedProvider>();
  const routes = new Map<string, ResolvedProvider>();
  for (const [name, providerOptions] of Object.entries(configured)) {
    if (providerOptions === undefined) continue;
    const provider = known.get(name);
    if (!provider) {
      throw new ConfigError(
        `unknown provider "${name}": the providers are ${names}; to add one of your own, define it with defineProvider() and pass it in customProviders`,
      );
    }
    const entry = resolveProvider(provider, providerOptions, options.allowUnauthenticated === true, platform, logger);
    const taken = routes.get(entry.path);
    if (taken) throw new ConfigError(`providers ${taken.name} and ${name} both use the path ${entry.path}: give one a "path" of its own`);
    resolved.set(name, entry);
    routes.set(entry.path, entry);
  }

  if (resolved.size === 0) {
    throw new ConfigError(
      `name at least one provider in "providers" with its options: every one given is undefined (are the settings they are read from set?); the providers are ${names}`,
    );
  }
  return { providers: resolved, routes };
}

/** The built-in providers and the user's own, by name. */
function knownProviders(custom: unknown): Map<string, AnyProvider> {
  const known = new Map<string, AnyProvider>(Object.entries(builtInProviders));
  if (custom === undefined) return known;
  if (!Array.isArray(custom)) throw new ConfigError("customProviders must be an array of providers made with defineProvider()");
  for (const provider of custom as unknown[]) {
    const { name, normalize, authentication } = (isObject(provider) ? provider : {}) as Partial<AnyProvider>;
    if (typeof name !== "string" || typeof normalize !== "function" || !Array.isArray(authentication)) {
      throw new ConfigError("customProviders must hold providers made with defineProvider()");
    }
    if (known.has(name)) {
      throw new ConfigError(
        `customProviders: a provider named "${name}" is ${name in builtInProviders ? "built in" : "given twice"}: give yours another name`,
      );
    }
    known.set(name, provider as AnyProvider);
  }
  return known;
}
