import type { Generation, GenerationStatus } from "../generations/generation";
import type { HeadersInput } from "../http/headers";
import type { WebhookResponse } from "../http/response";
import type { ProviderApi } from "./provider-api";
import type { ProviderTesting } from "./provider-testing";
import type { HmacSignatureScheme } from "../signatures/hmac-signature";
import type { SignatureScheme } from "../signatures/scheme";

/** What `Provider.normalize` gets beside the payload. */
export interface NormalizeContext {
  /** Resolves the provider's relative image paths; undefined leaves them as sent. */
  resolveImageUrl: (path: string) => string;
  receivedAt: Date;
}

/** What a provider's idempotency key may read beside the payload: a header such as `webhook-id`. */
export interface DeliveryContext {
  headers: HeadersInput | undefined;
}

/** How a provider's deliveries can be authenticated: a token chosen by the receiver, or a Standard Webhooks signature. */
export type AuthenticationMethod = "token" | "signature";

/**
 * A signature other than Standard Webhooks, as a provider declares it: an HMAC-SHA256 of the raw
 * body, hex, in one header (Black Forest Labs: `X-BFL-Signature: sha256=<hex>`), keyed with the
 * secret's UTF-8 bytes. No timestamp is signed, so replays are left to dedupe.
 */
export interface HmacSignatureDeclaration {
  readonly kind: "hmac";
  /** The header that carries the signature, lower case, e.g. `x-bfl-signature`. */
  readonly header: string;
  /** What comes before the hex digest, e.g. `sha256=`. Default none. */
  readonly prefix?: string;
}

/**
 * One entry of a provider's `authentication`: a method by name, or a signature scheme the provider
 * declares (`ed25519Jwks({...})`), keyed by the options it names. (An `hmacSignature({...})` a
 * definition lists is the `"signature"` method here, made the way `signatureScheme` says.)
 */
export type Authentication = AuthenticationMethod | SignatureScheme;

/** The provider options an API credential can be set in. */
export type CredentialOption = "apiToken" | "apiKey";

/**
 * A provider's API credential, as the provider declares it: the option the user sets it in, and the
 * header a read-back sends it in. The options, the messages and the read-back all read it from here.
 */
export interface ApiCredential {
  /** The provider option that holds it, e.g. `apiKey` for `providers["all-images"].apiKey`. */
  readonly option: CredentialOption;
  /** The header it is sent in, e.g. `authorization` or `api-key`. */
  readonly header: string;
  /** What comes before it in the header, e.g. `Bearer ` (none by default). */
  readonly prefix?: string;
}

/**
 * How a provider whose webhook only says that a generation ended completes it from its API before
 * `generation.completed` fires (OpenAI's): the answer read back, checked against `schema`, must be
 * about the generation asked for, and `apply` takes what the webhook lacked (its images) from it.
 */
export interface ReadBackCompletion {
  /** Whether a generation needs reading back, e.g. only a completed one. */
  readonly needs: (generation: Generation<string>) => boolean;
  /** The JSON Schema (draft-07) of the API's answer: the API's shape, not the webhook's. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** Reads the generation from the API (with `getJson`): throw a `ProviderApiError` for an error answer. */
  readonly read: (generation: Generation<string>, api: ProviderApi) => Promise<unknown>;
  /** The id the answer is about: a read-back answering about another generation is refused. */
  readonly idOf: (answer: unknown) => string;
  /** The generation completed from the (checked) answer: typically its `images`. */
  readonly apply: (
    generation: Generation<string>,
    answer: unknown,
  ) => Partial<Pick<Generation<string>, "images" | "prompt" | "params" | "error">>;
  /** The largest answer read, in bytes: images inline are large. Default `reconcile.maxBytes` or 1 MiB. */
  readonly maxBytes?: number;
  /** What is lost without the API credential, said once at start-up, e.g. "its events carry no images". */
  readonly withoutCredential: string;
}

/**
 * Everything a provider is, in one object: adding a provider is adding one module that exports
 * one of these, and one line in `providers/index.ts`.
 *
 * `Payload` is the body type (derived from `schema`); `Events` maps each known event name (the
 * part after `<name>.`) to the payload type its listeners receive, for the typed `on()`.
 */
export interface Provider<Name extends string, Payload, Events extends Record<string, Payload>> {
  readonly name: Name;
  /** A JSON Schema (draft-07), compiled once by ajv. Unknown fields must stay allowed. */
  readonly schema: Readonly<Record<string, unknown>>;
  /** The event names the types know; a delivery may carry others, emitted all the same. */
  readonly knownEvents: readonly (keyof Events & string)[];
  /** The part of the event name after `<name>.`, e.g. `done` for `crazyhorse.done`. */
  eventName(payload: Payload): string;
  /** The same delivery sent twice gives the same key. */
  idempotencyKey(payload: Payload, context: DeliveryContext): string;
  /** The delivery as a `Generation`: one shape for every provider. */
  normalize(payload: Payload, context: NormalizeContext): Generation<Name>;
  /** What the pipeline answers the provider once a delivery is handled. */
  readonly answer: WebhookResponse;
  /** The ways its deliveries can be authenticated, the one the provider documents first. */
  readonly authentication: readonly Authentication[];
  /** How its `signature` is made, where it is not Standard Webhooks: an HMAC of the body in a header (`hmacSignature`). */
  readonly signatureScheme?: HmacSignatureScheme;
  /**
   * Reads a generation back from the provider's API, as one of its delivery bodies (validated
   * against `schema` like a delivery): what recovers a generation whose final webhook never came.
   * Absent: the provider has no such API.
   */
  readonly fetchGeneration?: (id: string, api: ProviderApi) => Promise<unknown>;
  /** The origin of the provider's API, where `fetchGeneration` reads by default. */
  readonly apiBaseUrl?: string;
  /**
   * Its API credential: which option holds it and which header carries it. Absent with a
   * `fetchGeneration`: either option (`apiToken` or `apiKey`) is read, and `fetchGeneration` sends it.
   */
  readonly credential?: ApiCredential;
  /**
   * Whether a delivery is about a generation; absent: every delivery is. One that is not (OpenAI's
   * `batch.completed`) fires its own event, `<provider>` and `*` only: no `generation.*`, nothing tracked.
   */
  isGeneration?(payload: Payload): boolean;
  /** Completing a generation from the provider's API before its events fire; absent: its webhook says everything. */
  readonly complete?: ReadBackCompletion;
  /** Why it has no API to read a generation back, where the provider says so: the messages repeat it. */
  readonly withoutApi?: string;
  /**
   * What `generations.track()`'s `app` is for it, where its read-back cannot do without one (fal.ai:
   * the model id): tracking without `app` is refused, with this in the message.
   */
  readonly appForReadBack?: string;
  /** What the CLI's help says `<event>` is for it, e.g. `crazyhorse's state (WAITING, DONE, ...)`; else its `knownEvents`. */
  readonly cliEvents?: string;
  /**
   * What `imagegen-webhooks/testing` and the CLI need to build and simulate its deliveries. The
   * built-in providers leave it unset here and keep theirs in `<provider>.testing.ts`, out of the
   * main entry; a user's provider gets it from `defineProvider({ testing })`.
   */
  readonly testing?: ProviderTesting<Payload>;
  /** Type-level only: never set. */
  readonly __types?: { payload: Payload; events: Events };
}

/** Any provider, whatever its name and payload: what lists of providers hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProvider = Provider<string, any, any>;

/** Builds a status lookup that maps anything unlisted to `unknown`. */
export function statusMap(table: Record<Exclude<GenerationStatus, "unknown">, readonly string[]>, { ignoreCase }: { ignoreCase: boolean }) {
  const fold = ignoreCase ? (value: string) => value.toLowerCase() : (value: string) => value;
  const byValue = new Map<string, GenerationStatus>();
  for (const [status, values] of Object.entries(table) as [GenerationStatus, readonly string[]][]) {
    for (const value of values) byValue.set(fold(value), status);
  }
  return (value: string): GenerationStatus => byValue.get(fold(value)) ?? "unknown";
}

/**
 * A provider's reason for a failure, as one line of text: a non-empty string, or an object's
 * `message` (what an error serialized as JSON carries). Anything else says nothing.
 */
export function failureReason(value: unknown): string | undefined {
  const text = typeof value === "object" && value !== null ? (value as { message?: unknown }).message : value;
  return typeof text === "string" && text.trim() !== "" ? text : undefined;
}

/** Past this many keys V8's object spread leaves its fast path (measured: 0.5 ms to copy 1,000 keys). */
const SPREAD_MAX_KEYS = 64;

/**
 * `{ ...record }`, fast for a large record too: the keys are added one by one to an object that a
 * deleted property has put in V8's dictionary mode (65 µs for 1,000 keys instead of the spread's
 * 470). An own `__proto__` key, which JSON.parse makes, stays a plain property, as with the spread.
 */
export function copyRecord(record: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(record);
  if (keys.length <= SPREAD_MAX_KEYS) return { ...record };
  const copy: Record<string, unknown> = { dictionaryMode: true };
  delete copy.dictionaryMode;
  for (const key of keys) {
    if (key === "__proto__") Object.defineProperty(copy, key, { value: record[key], writable: true, enumerable: true, configurable: true });
    else copy[key] = record[key];
  }
  return copy;
}
