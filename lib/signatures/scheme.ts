// lib/signatures/scheme.ts: what every signature scheme is, for the provider modules that declare
// one and the options and pipeline that run it. In the foundation, so that a provider module (and a
// user's defineProvider) can import the schemes: they know nothing of the layers above.
import type { Crypto } from "../crypto/crypto";
import type { HeadersInput } from "../http/headers";

/** How far a signed timestamp may be from now, either way, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** The refusals a verifier throws: the pipeline answers each as the `WebhookError` of the same code. */
export type SignatureRejectionCode = "auth.failed" | "auth.wrong-account" | "keys.unavailable";

const STATUSES: Record<SignatureRejectionCode, number> = { "auth.failed": 401, "auth.wrong-account": 401, "keys.unavailable": 503 };

/**
 * A delivery a verifier refuses. The pipeline turns it into the `WebhookError` of its `code`, with
 * its `headers` (a 503's `Retry-After`) and its `detail` (logged; never a key or the body).
 */
export class SignatureRejection extends Error {
  readonly code: SignatureRejectionCode;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly detail?: string;

  constructor(code: SignatureRejectionCode, options: { headers?: Record<string, string>; detail?: string } = {}) {
    super(options.detail ?? code);
    this.name = "SignatureRejection";
    this.code = code;
    this.status = STATUSES[code];
    if (options.headers) this.headers = options.headers;
    if (options.detail) this.detail = options.detail;
  }
}

/** Checks one delivery's signature: what a scheme makes for one deployment's options. */
export interface SignatureVerifier {
  /** Throws (or, where the crypto or the keys are asynchronous, rejects) the refusal to answer. */
  verify(headers: HeadersInput | undefined, rawBody: Uint8Array | string, nowMs?: number): void | Promise<void>;
}

/**
 * A way a provider signs its deliveries, declared in its module (`authentication: [scheme]`) and
 * keyed by each deployment's options: `createWebhooks` creates one verifier per provider at
 * start-up (a JWKS cache lives in it), and the pipeline calls it on every delivery.
 */
export interface SignatureScheme {
  /** What it is, e.g. `ed25519-jwks`. */
  readonly kind: string;
  /** The header that carries the signature, lower case: the OpenAPI document's security scheme. */
  readonly signatureHeader: string;
  /** One sentence on what is signed and how it is checked, for the OpenAPI document. */
  readonly description: string;
  /** The provider options it reads, e.g. `["userId", "jwksUrl", "jwks"]`: they are accepted for this provider only. */
  readonly optionKeys: readonly string[];
  /**
   * The verifier for one deployment's options (those of `optionKeys` that are set). Throws a
   * `TypeError` saying what to change; `createWebhooks` reports it as a start-up error.
   */
  createVerifier(options: Record<string, unknown>, crypto: Crypto): SignatureVerifier;
  /** What to warn of once at start-up for these options, e.g. a missing account check. */
  startupWarning?(options: Record<string, unknown>, providerName: string): string | undefined;
}

/** Whether an entry of a provider's `authentication` is a scheme (not `"token"` or `"signature"`). */
export function isSignatureScheme(value: unknown): value is SignatureScheme {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as SignatureScheme).kind === "string" &&
    typeof (value as SignatureScheme).signatureHeader === "string" &&
    Array.isArray((value as SignatureScheme).optionKeys) &&
    typeof (value as SignatureScheme).createVerifier === "function"
  );
}
