import type { Crypto } from "../crypto/crypto";
import { WebhookError } from "../errors";
import { getHeader, getQueryValues, type HeadersInput, type QueryInput } from "../headers";
import { isThenable } from "../thenable";

/** Checks the token a request presents; throws (or, where the crypto is asynchronous, rejects) the `401` to answer. */
export interface TokenVerifier {
  verify(headers: HeadersInput | undefined, query: QueryInput | undefined): void | Promise<void>;
}

/** Every token the request presents: the `token` query parameter, a Bearer header, an X-Webhook-Token header. */
function presentedTokens(headers: HeadersInput | undefined, query: QueryInput | undefined): string[] {
  const tokens = getQueryValues(query, "token");
  const authorization = getHeader(headers, "authorization");
  if (authorization !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) tokens.push(match[1] as string);
  }
  const header = getHeader(headers, "x-webhook-token");
  if (header !== undefined) tokens.push(header);
  return tokens;
}

function anyEqual(crypto: Crypto, presented: readonly Uint8Array[], secrets: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const digest of presented) {
    for (const secret of secrets) matched = crypto.timingSafeEqual(digest, secret) || matched;
  }
  return matched;
}

/**
 * Passes when any presented token equals any configured secret. Both sides are compared as
 * SHA-256 digests, so the constant-time comparison always sees equal lengths and the time taken
 * tells nothing of the secret's content or length; every pair is compared, with no early exit.
 * No secrets: the provider opted out of authentication, and there is nothing to verify.
 */
export function createTokenVerifier(secrets: readonly string[], crypto: Crypto): TokenVerifier | undefined {
  if (secrets.length === 0) return undefined;
  const hashed = secrets.map((secret) => crypto.sha256(secret));
  // Synchronous crypto hashes the secrets here, once; Web Crypto's promises settle before the first request needs them.
  const digests: Uint8Array[] | Promise<Uint8Array[]> = hashed.some(isThenable)
    ? Promise.all(hashed as Promise<Uint8Array>[])
    : (hashed as Uint8Array[]);
  return {
    verify(headers, query) {
      const tokens = presentedTokens(headers, query).map((token) => crypto.sha256(token));
      if (tokens.length === 0) throw new WebhookError("auth.failed");
      if (isThenable(digests) || tokens.some(isThenable)) {
        return Promise.all([Promise.resolve(digests), Promise.all(tokens as Promise<Uint8Array>[])]).then(([secretDigests, presented]) => {
          if (!anyEqual(crypto, presented, secretDigests)) throw new WebhookError("auth.failed");
        });
      }
      if (!anyEqual(crypto, tokens as Uint8Array[], digests)) throw new WebhookError("auth.failed");
    },
  };
}
