// lib/options/reconcile.ts: what reading generations back needs: each provider's API (`apiToken`
// or `apiKey`, `apiBaseUrl`), and `reconcile`, when to read. Imports the providers' and the
// pipeline's types, and the folder's checks.
import type { AnyProvider } from "../providers/provider";
import type { ProviderApiSettings, ResolvedOptions, ResolvedProvider } from "../pipeline/index";
import { DEFAULT_READ_BACK_MAX_BYTES } from "../reconcile/read-back-fetch";
import { ConfigError, isObject, isPositiveNumber, rejectUnknownKeys } from "./checks";

/** When open generations are read back from their provider's API. */
export interface ReconcileOptions {
  /** A generation still open this long after its last delivery is read back. Default 10 minutes. */
  afterMs?: number;
  /** How often the open generations are looked at. Default 1 minute. */
  everyMs?: number;
  /** How long one read-back may take, its answer's body included. Default 10 seconds. */
  timeoutMs?: number;
  /** The largest answer a read-back reads, in bytes; a larger one is refused, unread. Default 1 MiB. */
  maxBytes?: number;
}

const DEFAULT_RECONCILE = { afterMs: 10 * 60_000, everyMs: 60_000, timeoutMs: 10_000, maxBytes: DEFAULT_READ_BACK_MAX_BYTES };

/** One provider's API, from its credential (`apiToken` or `apiKey`) and `apiBaseUrl`; none without a credential. */
export function resolveApi(provider: AnyProvider, credential: unknown, apiBaseUrl: unknown): ProviderApiSettings | undefined {
  const { name } = provider;
  if (apiBaseUrl !== undefined && (typeof apiBaseUrl !== "string" || !/^https?:\/\/[^/]/.test(apiBaseUrl))) {
    throw new ConfigError(
      `providers.${name}.apiBaseUrl must be an http(s) origin, e.g. "${provider.apiBaseUrl ?? "https://api.example.com"}"`,
    );
  }
  if (credential === undefined) return undefined;
  if (typeof credential !== "string" || credential === "")
    throw new ConfigError(`providers.${name}: the API credential must be a non-empty string`);
  if (!provider.fetchGeneration) {
    throw new ConfigError(
      `provider ${name} has no API to read a generation back${name === "crazyhorse" ? " (crazyhorse.ai documents its webhook only)" : " (its definition has no fetchGeneration)"}: remove its API credential`,
    );
  }
  const baseUrl = apiBaseUrl ?? provider.apiBaseUrl;
  if (baseUrl === undefined) throw new ConfigError(`providers.${name}.apiBaseUrl is needed: its definition names no API origin`);
  return { baseUrl, credential };
}

/** Read after the providers: it needs one whose API it can read. */
export function resolveReconcile(reconcile: unknown, providers: Map<string, ResolvedProvider>): ResolvedOptions["reconcile"] {
  if (reconcile === undefined) return undefined;
  if (!isObject(reconcile)) throw new ConfigError("reconcile must be an object, e.g. { afterMs: 600000, everyMs: 60000 }");
  rejectUnknownKeys(reconcile, Object.keys(DEFAULT_RECONCILE), "in reconcile");
  const settings = { ...DEFAULT_RECONCILE, ...(reconcile as ReconcileOptions) };
  for (const [key, value] of Object.entries(settings)) {
    if (key === "maxBytes") {
      if (!isPositiveNumber(value) || !Number.isInteger(value))
        throw new ConfigError("reconcile.maxBytes must be a positive integer number of bytes");
    } else if (!isPositiveNumber(value)) throw new ConfigError(`reconcile.${key} must be a positive number of milliseconds`);
  }
  const configured = [...providers.values()];
  if (!configured.some((provider) => provider.api)) {
    // Name the credentials of the providers configured here that have an API, else say which do.
    const readable = configured.filter((resolved) => resolved.provider.fetchGeneration).map((resolved) => credentialOption(resolved.name));
    throw new ConfigError(
      readable.length > 0
        ? `reconcile needs a provider it can read back: set ${readable.join(" or ")}`
        : `reconcile needs a provider it can read back, and ${configured.map((resolved) => resolved.name).join(", ")} cannot: ` +
            "replicate (apiToken) and all-images (apiKey) can, and a defineProvider() with fetchGeneration (crazyhorse.ai documents no such API)",
    );
  }
  return settings;
}

/** Where a provider's API credential goes, as the options spell it. */
function credentialOption(name: string): string {
  const key = /^[A-Za-z_$][\w$]*$/.test(name) ? `providers.${name}` : `providers[${JSON.stringify(name)}]`;
  return `${key}.${name === "all-images" ? "apiKey" : "apiToken"}`;
}
