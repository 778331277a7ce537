import type { Crypto } from "../crypto/crypto";
import { WebhookError } from "../errors";
import { getHeader, getQueryValues, type HeadersInput, type QueryInput } from "../http/headers";
import { isThenable } from "../async/thenable";

/** Checks the token a request presents; throws (or, where the crypto is asynchronous, rejects) the `401` to answer. */
export interface TokenVerifier {
  verify(headers: HeadersInput | undefined, query: QueryInput | undefined): void | Promise<void>;
}

/**
 * The one token the request presents: the `token` query parameter, a Bearer header or an
 * X-Webhook-Token header. A request that presents more than one (a repeated parameter, or places
 * that disagree) is refused: accepting any of them would let one request try many guesses.
 */
function presentedToken(headers: HeadersInput | undefined, query: QueryInput | undefined): string | undefined {
  const tokens = getQueryValues(query, "token");
  if (tokens.length > 1) throw new WebhookError("auth.multiple-tokens");
  const authorization = getHeader(headers, "authorization");
  if (authorization !== undefined) {
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) tokens.push(match[1] as string);
  }
  const header = getHeader(headers, "x-webhook-token");
  if (header !== undefined) tokens.push(header);
  const [token] = tokens;
  if (tokens.some((other) => other !== token)) throw new WebhookError("auth.multiple-tokens");
  return token;
}

function anyEqual(crypto: Crypto, presented: Uint8Array, secrets: readonly Uint8Array[]): boolean {
  let matched = false;
  for (const secret of secrets) matched = crypto.timingSafeEqual(presented, secret) || matched;
  return matched;
}

/**
 * Passes when the presented token equals any configured secret. Both sides are compared as
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
      const token = presentedToken(headers, query);
      if (token === undefined) throw new WebhookError("auth.failed");
      const presented = crypto.sha256(token);
      if (isThenable(digests) || isThenable(presented)) {
        return Promise.all([digests, presented]).then(([secretDigests, digest]) => {
          if (!anyEqual(crypto, digest, secretDigests)) throw new WebhookError("auth.failed");
        });
      }
      if (!anyEqual(crypto, presented, digests)) throw new WebhookError("auth.failed");
    },
  };
}
