import { randomBytes } from "node:crypto";
import { nodeCrypto } from "../../crypto/node-crypto";
import { isThenable } from "../../async/thenable";
import { decodeSigningSecret, ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "../../pipeline/signature";
import { isProviderName, providers, type ProviderName } from "../../providers/index";
import type { AnyProvider } from "../../providers/provider";

/**
 * For a provider that declares an HMAC of the body (`signatureScheme`, e.g. Black Forest Labs):
 * the function that makes its signature header from the exact bytes sent, for `sendDelivery`'s and
 * `playJob`'s `sign`. Undefined for a provider that signs the Standard Webhooks way (`signDelivery`).
 */
export function bodySigner(
  provider: ProviderName | AnyProvider,
  secret: string,
): ((rawBody: string | Uint8Array) => Record<string, string>) | undefined {
  const chosen: AnyProvider | undefined =
    typeof provider === "string" ? (isProviderName(provider) ? providers[provider] : undefined) : provider;
  if (chosen === undefined) throw new RangeError(`bodySigner: "${provider as string}" is not a built-in provider`);
  const scheme = chosen.signatureScheme;
  return (
    scheme &&
    ((rawBody) => {
      const headers = scheme.sign(secret, rawBody, nodeCrypto);
      // node:crypto's HMAC is synchronous: the headers are there already.
      if (isThenable(headers)) throw new TypeError("bodySigner needs synchronous crypto (node:crypto)");
      return headers;
    })
  );
}

/** The `webhook-signature` value for one body, signed with each secret given (several while rotating). */
export function signStandardWebhook(
  secrets: string | readonly string[],
  id: string,
  timestampSeconds: number,
  body: Uint8Array | string,
): string {
  const list = typeof secrets === "string" ? [secrets] : secrets;
  return list
    .map((secret) => {
      const digest = nodeCrypto.hmacSha256(decodeSigningSecret(secret))([`${id}.${timestampSeconds}.`, body]) as Buffer;
      return `v1,${digest.toString("base64")}`;
    })
    .join(" ");
}

/** The secret, id and time that `signDelivery` signs a body with. */
export interface SignOptions {
  /** The `whsec_…` signing secret; several sign with each, as a sender does while it rotates. */
  secret: string | readonly string[];
  /** The `webhook-id`; a fresh `msg_…` by default. */
  id?: string;
  /** The `webhook-timestamp`, as a Date or Unix seconds; now by default. */
  timestamp?: Date | number;
}

/**
 * The three Standard Webhooks headers for a body: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
 * (A type alias, not an interface, so that it can be passed where a header record is expected.)
 */
export type StandardWebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/**
 * Signs a body as a Standard Webhooks sender does, to test an endpoint or to sign in a relay.
 * Sign the exact bytes you send: an object is serialized here with `JSON.stringify`.
 */
export function signDelivery(body: string | Uint8Array | object, options: SignOptions): StandardWebhookHeaders {
  const id = options.id ?? `msg_${randomBytes(12).toString("base64url")}`;
  const { timestamp = new Date() } = options;
  const seconds = typeof timestamp === "number" ? Math.floor(timestamp) : Math.floor(timestamp.getTime() / 1000);
  const bytes = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  return {
    [ID_HEADER]: id,
    [TIMESTAMP_HEADER]: String(seconds),
    [SIGNATURE_HEADER]: signStandardWebhook(options.secret, id, seconds, bytes),
  };
}
