import * as crypto from "node:crypto";
import { WebhookError } from "../errors";
import { getHeader, getQueryValues, type HeadersInput, type QueryInput } from "../headers";

type OneShotHash = (algorithm: string, data: string, outputEncoding: "buffer") => Buffer;
// crypto.hash() (Node 20.12 and later) digests in one call, without a Hash object per request.
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

export function hashSecret(secret: string): Buffer {
  return oneShot ? oneShot("sha256", secret, "buffer") : crypto.createHash("sha256").update(secret, "utf8").digest();
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

/**
 * Passes when any presented token equals any configured secret. Both sides are compared as
 * SHA-256 digests, so `timingSafeEqual` always sees equal lengths and the time taken tells
 * nothing of the secret's content or length; every pair is compared, with no early exit.
 * No secrets configured means the provider opted out of authentication.
 */
export function authenticate(secretDigests: readonly Buffer[], headers: HeadersInput | undefined, query: QueryInput | undefined): void {
  if (secretDigests.length === 0) return;
  let matched = false;
  for (const token of presentedTokens(headers, query)) {
    const digest = hashSecret(token);
    for (const secret of secretDigests) matched = crypto.timingSafeEqual(digest, secret) || matched;
  }
  if (!matched) throw new WebhookError("auth.failed");
}
