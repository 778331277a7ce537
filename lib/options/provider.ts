// lib/options/provider.ts: one provider's options, checked and resolved into what the pipeline reads
// of it (`ResolvedProvider`): its route, its schema compiled, its image URLs, and, from the modules
// beside this one, its authentication and its API.
import type { JWK } from "jose";
import type { AnyProvider } from "../providers/provider";
import type { Platform } from "../platform/platform";
import { compileValidator, createTokenVerifier, type ResolvedProvider, type Validator } from "../pipeline/index";
import { isSignatureScheme } from "../signatures/scheme";
import type { Logger } from "../logging/logger";
import { resolveAllowedIps, resolveScheme, resolveSignature, resolveTokenSecrets, type SignatureOptions } from "./authentication";
import { ConfigError, isObject, rejectUnknownKeys } from "./checks";
import { resolveApi } from "./reconcile";

/** One provider's options: it needs a `secret`, a `signature`, or `allowUnauthenticated`. */
export interface ProviderOptions {
  /** The token the provider sends back (`?token=`, `Authorization: Bearer`, `X-Webhook-Token`). Several during a rotation. */
  secret?: string | readonly string[] | undefined;
  /** Require a Standard Webhooks signature, alone or beside the token. */
  signature?: SignatureOptions;
  /**
   * Accept deliveries only from these addresses or CIDR ranges (IPv4 and IPv6); `403` from anywhere
   * else. Behind a proxy, set Express's `trust proxy` so that `req.ip` is the provider's address;
   * with `fetch()` or `receive()`, pass the sender's address as `ip`.
   */
  allowedIps?: readonly string[];
  /** The route below the mount point. Default `/<provider>`. */
  path?: string;
  /** Where the provider's relative image paths live, e.g. `https://storage.example.com/`. */
  imageBaseUrl?: string;
  /** Accept this provider's deliveries without a secret. An explicit opt-out, for local experiments. */
  allowUnauthenticated?: boolean;
  /**
   * The API token of a provider whose credential is a token (Replicate's): with `reconcile`, a
   * generation whose final webhook never came is read back from its API.
   */
  apiToken?: string | undefined;
  /** The API key of a provider whose credential is a key (all-images.ai's): the same, under the name the provider uses. */
  apiKey?: string | undefined;
  /** Where the provider's API is, to point at a proxy or a test server: an origin such as `https://api.replicate.com` (the default). */
  apiBaseUrl?: string;
  /**
   * fal.ai and Ideogram: your account's id there. Their keys sign every customer's deliveries, so a
   * delivery for another account is refused (`auth.wrong-account`); without it, a start-up warning.
   */
  userId?: string | undefined;
  /** fal.ai and Ideogram: where their signing keys are (default the provider's JWKS). https, except on a loopback host. */
  jwksUrl?: string;
  /** fal.ai and Ideogram: the signing keys themselves, instead of fetching them (tests, or no way out to the provider). */
  jwks?: { keys: readonly JWK[] };
}

const PROVIDER_KEYS = [
  "secret",
  "signature",
  "allowedIps",
  "path",
  "imageBaseUrl",
  "allowUnauthenticated",
  "apiToken",
  "apiKey",
  "apiBaseUrl",
];

export function resolveProvider(
  provider: AnyProvider,
  options: unknown,
  allowUnauthenticatedGlobally: boolean,
  platform: Platform,
  logger: Logger,
): ResolvedProvider {
  const { name } = provider;
  if (!isObject(options)) throw new ConfigError(`providers.${name} must be an object, e.g. { secret: "…" }`);
  const scheme = provider.authentication.find(isSignatureScheme);
  rejectUnknownKeys(options, scheme ? [...PROVIDER_KEYS, ...scheme.optionKeys] : PROVIDER_KEYS, `for provider ${name}`);
  const { secret, signature, allowedIps, path = `/${name}`, imageBaseUrl, allowUnauthenticated } = options as ProviderOptions;

  const secrets = resolveTokenSecrets(provider, { secret, signature, allowUnauthenticated }, allowUnauthenticatedGlobally);
  if (typeof path !== "string" || !path.startsWith("/") || path.includes("?")) {
    throw new ConfigError(`providers.${name}.path must start with "/" and hold no query, e.g. "/${name}"`);
  }

  // The read-back's schema compiled now, so that a mistake in it is a start-up error, not a failed delivery.
  if (provider.complete) compileSchema(name, provider.complete.schema);
  return {
    name,
    provider,
    path: path.length > 1 ? path.replace(/\/+$/, "") : path,
    token: createTokenVerifier(secrets, platform.crypto),
    signature: scheme
      ? resolveScheme(name, scheme, options, platform, logger)
      : signature === undefined
        ? undefined
        : resolveSignature(provider, signature, platform),
    allowedIps: allowedIps === undefined ? undefined : resolveAllowedIps(name, allowedIps, platform),
    validate: compileSchema(name, provider.schema),
    resolveImageUrl: imageUrlResolver(name, imageBaseUrl),
    api: resolveApi(provider, options),
  };
}

function compileSchema(name: string, schema: object): Validator {
  try {
    return compileValidator(schema);
  } catch (err) {
    throw new ConfigError(`the schema of provider ${name} does not compile: ${(err as Error).message}`);
  }
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;

function imageUrlResolver(name: string, imageBaseUrl: unknown): (path: string) => string {
  if (imageBaseUrl === undefined) return (path) => path;
  let base: URL;
  try {
    base = new URL(typeof imageBaseUrl === "string" ? imageBaseUrl : "invalid:");
  } catch {
    base = new URL("invalid:");
  }
  if (typeof imageBaseUrl !== "string" || (base.protocol !== "https:" && base.protocol !== "http:")) {
    throw new ConfigError(`providers.${name}.imageBaseUrl must be an absolute http(s) URL, e.g. "https://storage.example.com/"`);
  }
  // Without a trailing slash, URL resolution would drop the base's last segment.
  const prefix = base.href.endsWith("/") ? base.href : `${base.href}/`;
  return (path) => {
    if (ABSOLUTE_URL.test(path)) return path;
    try {
      return new URL(path.replace(/^\/+/, ""), prefix).href;
    } catch {
      return prefix + path;
    }
  };
}
