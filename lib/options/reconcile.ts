// lib/options/reconcile.ts: what reading generations back needs: each provider's API (the credential
// in the option the provider declares, `apiBaseUrl`), and `reconcile`, when to read.
import { providers as builtInProviders } from "../providers/index";
import type { AnyProvider, CredentialOption } from "../providers/provider";
import type { ProviderApiSettings, ResolvedOptions, ResolvedProvider } from "../pipeline/index";
import { DEFAULT_READ_BACK_MAX_BYTES } from "../pipeline/read-back-fetch";
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

/** One provider's API, from its credential and `apiBaseUrl`; none without a credential. */
export function resolveApi(provider: AnyProvider, options: Record<string, unknown>): ProviderApiSettings | undefined {
  const { name } = provider;
  const { apiBaseUrl } = options;
  if (apiBaseUrl !== undefined && (typeof apiBaseUrl !== "string" || !/^https?:\/\/[^/]/.test(apiBaseUrl))) {
    throw new ConfigError(
      `providers.${name}.apiBaseUrl must be an http(s) origin, e.g. "${provider.apiBaseUrl ?? "https://api.example.com"}"`,
    );
  }
  const credential = credentialOf(provider, options);
  if (credential === undefined) return undefined;
  if (typeof credential !== "string" || credential === "")
    throw new ConfigError(`providers.${name}: the API credential must be a non-empty string`);
  if (!provider.fetchGeneration) {
    throw new ConfigError(
      `provider ${name} has no API to read a generation back (${provider.withoutApi ?? "its definition has no fetchGeneration"}): remove its API credential`,
    );
  }
  const baseUrl = apiBaseUrl ?? provider.apiBaseUrl;
  if (baseUrl === undefined) throw new ConfigError(`providers.${name}.apiBaseUrl is needed: its definition names no API origin`);
  const declared = provider.credential;
  const headers = declared ? { [declared.header]: (declared.prefix ?? "") + credential } : {};
  return { baseUrl, credential, headers };
}

/**
 * The credential in the option the provider declares; the other one is refused, since it would be
 * ignored. A provider that declares none reads either, as its `fetchGeneration` sends it itself.
 */
function credentialOf(provider: AnyProvider, options: Record<string, unknown>): unknown {
  const declared = provider.credential?.option;
  if (declared === undefined) return options.apiToken ?? options.apiKey;
  for (const other of CREDENTIAL_OPTIONS) {
    if (other !== declared && options[other] !== undefined) {
      throw new ConfigError(
        `provider ${provider.name} takes its API credential as ${declared}, not ${other}: set ${credentialOption(provider.name, declared)}`,
      );
    }
  }
  return options[declared];
}

const CREDENTIAL_OPTIONS: readonly CredentialOption[] = ["apiToken", "apiKey"];

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
    const readable = configured
      .filter((resolved) => resolved.provider.fetchGeneration)
      .map(({ provider }) => credentialOption(provider.name, provider.credential?.option ?? "apiToken"));
    const builtIn = Object.values(builtInProviders)
      .filter((provider: AnyProvider) => provider.fetchGeneration && provider.credential)
      .map((provider: AnyProvider) => `${provider.name} (${provider.credential?.option})`);
    const reasons = configured.flatMap(({ provider }) => provider.withoutApi ?? []);
    throw new ConfigError(
      readable.length > 0
        ? `reconcile needs a provider it can read back: set ${readable.join(" or ")}`
        : `reconcile needs a provider it can read back, and ${configured.map((resolved) => resolved.name).join(", ")} cannot: ` +
            `${new Intl.ListFormat("en", { type: "conjunction" }).format(builtIn)} can, and a defineProvider() with fetchGeneration` +
            (reasons.length > 0 ? ` (${reasons.join("; ")})` : ""),
    );
  }
  return settings;
}

/** Where a provider's API credential goes, as the options spell it. */
function credentialOption(name: string, option: CredentialOption): string {
  const key = /^[A-Za-z_$][\w$]*$/.test(name) ? `providers.${name}` : `providers[${JSON.stringify(name)}]`;
  return `${key}.${option}`;
}
