// What a listener receives, for any set of providers: the event of a delivery and the arguments
// of the emitter's own events. Names no provider: by default the types are typed by
// `KnownProviders`, which the providers' list fills in.
import type { Generation, KnownProviderName, KnownProviders } from "../generations/generation";
import type { ImageFailureReason } from "../errors/image-keep-error";
import type { AnyProvider } from "../providers/provider";

/** What every listener of a delivery receives. `P` is the provider's name; the payload is typed from its schema. */
export interface WebhookEvent<
  P extends string = KnownProviderName,
  Payload = P extends KnownProviderName ? PayloadOf<KnownProviders[P]> : unknown,
> {
  /** The delivery's idempotency key, as its provider's `idempotencyKey` gives it. */
  id: string;
  provider: P;
  /** The provider-specific event name, `<provider>.<event>`. */
  name: string;
  /** The provider's body as it was sent, typed from its JSON Schema. */
  payload: Payload;
  generation: Generation<P>;
  receivedAt: Date;
  /** Which run of the listeners this is: 1, and more when an inbox retries a failed delivery. */
  attempt: number;
  /** Run again on purpose, by `webhooks.deliveries.replay()`. */
  replayed: boolean;
  /** `webhook`: a delivery; `reconciled`: read back from the provider's API because its final webhook never came. */
  origin: EventOrigin;
  /** The generation's `metadata`, as `webhooks.generations.track()` was given it; absent on a generation not tracked. */
  metadata?: Record<string, unknown>;
  /**
   * Aborted when the receiver stops waiting for this run of the listeners: in a worker at
   * `handlerTimeoutMs` (the attempt has failed), and when `close()` gives up. Pass it to `fetch()`
   * and the like so that the work stops with it. Not copied by `{ ...event }`.
   */
  readonly signal: AbortSignal;
}

/** Where an event came from: a webhook delivery, or the provider's API (`reconcile`). */
export type EventOrigin = "webhook" | "reconciled";

/** The providers a receiver knows, by name: the built-in ones, and those passed in `customProviders`. */
export type ProviderSet = { readonly [name: string]: AnyProvider };

/** A provider's types: its payload, and each known event's payload. */
export type TypesOf<P extends AnyProvider> = NonNullable<P["__types"]>;
/** A provider's payload type. */
type PayloadOf<P> = P extends AnyProvider ? TypesOf<P>["payload"] : unknown;
/** `KnownProviders` as a set of providers. */
export type KnownProviderSet = { [P in KnownProviderName]: KnownProviders[P] extends AnyProvider ? KnownProviders[P] : never };
/** The names of a set of providers. */
export type Names<Ps extends ProviderSet> = keyof Ps & string;

/** A delivery of any provider of the set: narrow it on `provider`. */
export type AnyWebhookEvent<Ps extends ProviderSet = KnownProviderSet> = {
  [P in Names<Ps>]: WebhookEvent<P, TypesOf<Ps[P]>["payload"]>;
}[Names<Ps>];

/** The argument of the `invalid` event: no secret and no body, only why it was refused. */
export interface InvalidDelivery {
  provider: string;
  status: number;
  /** A machine-readable word, e.g. `auth.failed`, `schema.invalid` (see `WebhookErrorCode`). */
  reason: string;
  errors?: SchemaError[];
}

/** The argument of the `dead` event: a stored delivery whose last attempt failed. It stays in the inbox, for inspection and replay. */
export interface DeadDelivery<Ps extends ProviderSet = KnownProviderSet> {
  event: AnyWebhookEvent<Ps>;
  /** What the last attempt threw. */
  error: unknown;
  attempts: number;
}

/** The argument of the `image.failed` event: an image of the generation that `keepImages` could not keep. */
export interface ImageFailed<Ps extends ProviderSet = KnownProviderSet> {
  /** The delivery whose generation names the image; its own events fire after this one, with the image not kept. */
  event: AnyWebhookEvent<Ps>;
  /** The image's place in `event.generation.images`. */
  index: number;
  url: string;
  reason: ImageFailureReason;
  message: string;
}

/** One way a delivery failed its provider's JSON Schema, as ajv reported it. */
export interface SchemaError {
  instancePath: string;
  message: string;
}
