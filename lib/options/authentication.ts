// lib/options/authentication.ts: who may deliver to a provider: its token `secret`, its Standard
// Webhooks `signature`, its `allowedIps`, or the explicit opt-out `allowUnauthenticated`.
import type { AnyProvider, Authentication } from "../providers/provider";
import { isSignatureScheme, type SignatureScheme } from "../signatures/scheme";
import { warnOnce } from "../logging/warn-once";
import type { Logger } from "../logging/logger";
import type { Platform } from "../platform/platform";
import {
  createSignatureVerifier,
  decodeSigningSecret,
  DEFAULT_TOLERANCE_SECONDS,
  type AllowList,
  type SignatureVerifier,
} from "../pipeline/index";
import { ConfigError, isObject, isPositiveNumber, rejectUnknownKeys } from "./checks";

/** A Standard Webhooks signature to require (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
export interface SignatureOptions {
  /**
   * The `whsec_…` signing secret the provider shows; several while you rotate. `undefined` is
   * accepted by the type, as for the token `secret`, so `process.env.X` compiles under `strict`;
   * `createWebhooks` throws if it is unset.
   */
  secret: string | readonly string[] | undefined;
  /** How far `webhook-timestamp` may be from now, either way, against replays. Default 300. */
  toleranceSeconds?: number;
}

/** What to set for each way the provider can be authenticated, in the order it prefers them. */
const AUTHENTICATION_HINTS = {
  token: (name: string, _preferred: boolean, _provider?: AnyProvider) =>
    `providers.${name}.secret (a token you choose and put in the callback URL you register with ${name}, as ?token=…, ` +
    `or send as "Authorization: Bearer …" or "X-Webhook-Token")`,
  signature: (name: string, preferred: boolean, provider?: AnyProvider) =>
    provider?.signatureScheme
      ? `providers.${name}.signature ({ secret: "…" }, the secret ${name} signs its deliveries with)`
      : // A provider that signs gives the secret; one that prefers a token (crazyhorse) has none to give.
        `providers.${name}.signature ({ secret: "whsec_…" }, ` +
        (preferred ? `the signing secret ${name} gives you)` : `where a relay signs ${name}'s deliveries with Standard Webhooks)`),
};

/** What to set for one entry of a provider's `authentication`. */
function authenticationHint(method: Authentication, name: string, preferred: boolean, provider: AnyProvider): string {
  if (isSignatureScheme(method)) return `providers.${name}'s signature options (${method.optionKeys.join(", ")})`;
  return AUTHENTICATION_HINTS[method](name, preferred, provider);
}

/** The options of one provider that say how its deliveries are authenticated, as given. */
interface GivenAuthentication {
  secret?: string | readonly string[];
  signature?: unknown;
  allowUnauthenticated?: boolean;
}

/**
 * The token secrets, once the provider is known to be authenticated by a way it supports, or to
 * have opted out: a provider left open by a missing environment variable is a start-up error.
 */
export function resolveTokenSecrets(
  provider: AnyProvider,
  options: GivenAuthentication,
  allowUnauthenticatedGlobally: boolean,
): readonly string[] {
  const { name } = provider;
  const { secret, signature, allowUnauthenticated } = options;
  const secrets: unknown = secret === undefined ? [] : typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || !secrets.every((s): s is string => typeof s === "string" && s.length > 0)) {
    throw new ConfigError(`providers.${name}.secret must be a non-empty string, or an array of them while you rotate`);
  }
  const scheme = provider.authentication.find(isSignatureScheme);
  if (
    secrets.length === 0 &&
    signature === undefined &&
    scheme === undefined &&
    allowUnauthenticated !== true &&
    !allowUnauthenticatedGlobally
  ) {
    throw new ConfigError(
      `provider ${name} has no secret: set ${provider.authentication.map((method, i) => authenticationHint(method, name, i === 0, provider)).join(", or ")}, ` +
        `or set allowUnauthenticated: true to accept anyone's deliveries` +
        (secret === undefined && signature === undefined ? " (is the environment variable you read it from set?)" : ""),
    );
  }
  for (const [method, given] of [
    ["token", secrets.length > 0],
    ["signature", signature !== undefined],
  ] as const) {
    if (given && !provider.authentication.includes(method)) {
      throw new ConfigError(
        `provider ${name} cannot be authenticated by ${method}: set ${authenticationHint(provider.authentication[0]!, name, true, provider)} instead`,
      );
    }
  }
  return secrets;
}

export function resolveSignature(provider: AnyProvider, signature: unknown, platform: Platform): SignatureVerifier {
  const { name } = provider;
  const where = `providers.${name}.signature`;
  if (provider.signatureScheme) return resolveBodyHmac(provider, signature, platform);
  if (!isObject(signature)) throw new ConfigError(`${where} must be an object, e.g. { secret: "whsec_…" }`);
  rejectUnknownKeys(signature, ["secret", "toleranceSeconds"], `in ${where}`);
  const { secret, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = signature as Partial<SignatureOptions>;
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new ConfigError(
      `${where}.secret must be the provider's "whsec_…" signing secret, or an array of them while you rotate` +
        (secret === undefined ? " (is the environment variable you read it from set?)" : ""),
    );
  }
  const keys = secrets.map((s: unknown, i: number) => {
    try {
      return decodeSigningSecret(s);
    } catch (err) {
      throw new ConfigError(`${where}.secret${secrets.length > 1 ? `[${i}]` : ""}: ${(err as Error).message}`);
    }
  });
  if (!isPositiveNumber(toleranceSeconds)) {
    throw new ConfigError(`${where}.toleranceSeconds must be a positive number of seconds (default ${DEFAULT_TOLERANCE_SECONDS})`);
  }
  return createSignatureVerifier(keys, toleranceSeconds, platform.crypto);
}

/** A declared HMAC of the body: its secrets are strings of the provider's choosing, and it has no timestamp to tolerate. */
function resolveBodyHmac(provider: AnyProvider, signature: unknown, platform: Platform): SignatureVerifier {
  const where = `providers.${provider.name}.signature`;
  if (!isObject(signature)) throw new ConfigError(`${where} must be an object, e.g. { secret: "…" }`);
  if ("toleranceSeconds" in signature) {
    throw new ConfigError(`${where}.toleranceSeconds: ${provider.name} signs no timestamp, so there is none to check: leave it out`);
  }
  rejectUnknownKeys(signature, ["secret"], `in ${where}`);
  const { secret } = signature as { secret?: unknown };
  const secrets: unknown = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0 || !secrets.every((s) => typeof s === "string" && s.length > 0)) {
    throw new ConfigError(
      `${where}.secret must be the secret ${provider.name} signs with (a non-empty string), or an array of them while you rotate` +
        (secret === undefined ? " (is the environment variable you read it from set?)" : ""),
    );
  }
  return provider.signatureScheme!.createVerifier(secrets as string[], platform.crypto);
}

export function resolveAllowedIps(name: string, allowedIps: unknown, platform: Platform): AllowList {
  const where = `providers.${name}.allowedIps`;
  if (!Array.isArray(allowedIps) || allowedIps.length === 0) {
    throw new ConfigError(`${where} must be a non-empty array of addresses or CIDR ranges, e.g. ["203.0.113.0/24", "2001:db8::/32"]`);
  }
  try {
    return platform.allowList(allowedIps, where);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/**
 * The verifier of a provider that declares its own signature scheme (fal.ai's and Ideogram's
 * Ed25519 with a JWKS), created once per receiver, from the options the scheme names; its start-up
 * warning, if any, is said once.
 */
export function resolveScheme(
  name: string,
  scheme: SignatureScheme,
  options: Record<string, unknown>,
  platform: Platform,
  logger: Logger,
): SignatureVerifier {
  const given: Record<string, unknown> = {};
  for (const key of scheme.optionKeys) if (options[key] !== undefined) given[key] = options[key];
  let verifier: SignatureVerifier;
  try {
    verifier = scheme.createVerifier(given, platform.crypto);
  } catch (err) {
    throw new ConfigError(`providers.${name}: ${(err as Error).message}`);
  }
  const warning = scheme.startupWarning?.(given, name);
  if (warning !== undefined) warnOnce(logger, warning);
  return verifier;
}
