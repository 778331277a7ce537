import type { WebhookHandlerError } from "./errors";
import type { BuiltInProviders, ProviderName, ProviderPayloads } from "./providers/index";
import type { AnyProvider } from "./providers/provider";
import type { ImageFailureReason } from "./images/failure";

/** The normalized status of a generation, the same for every provider. */
export type GenerationStatus = "queued" | "processing" | "progress" | "completed" | "failed" | "unknown";

export const GENERATION_STATUSES: readonly GenerationStatus[] = ["queued", "processing", "progress", "completed", "failed", "unknown"];

/** One image of a `Generation`. */
export interface GeneratedImage {
  /** Absolute where the provider's `imageBaseUrl` is set and the provider sent a relative path. */
  url: string;
  id?: string;
  /** With `keepImages`: where the kept copy is, once stored. Absent when it could not be kept (see `image.failed`). */
  keptUrl?: string;
  /** With `keepImages`: the kept copy's key in the store, its size in bytes and its type (from its magic bytes). */
  kept?: { key: string; size: number; contentType: string };
}

/** One shape for a generation job, whatever provider sent it. */
export interface Generation<P extends string = ProviderName> {
  provider: P;
  /** crazyhorse: `code`; all-images: `data.id`. */
  id: string;
  status: GenerationStatus;
  images: GeneratedImage[];
  /** crazyhorse: the `image` the job started from. */
  sourceImageUrl?: string;
  prompt?: string;
  /** The request's parameters; all-images' `[{ name, value }]` list becomes an object. */
  params: Record<string, unknown>;
  /** Why it failed, where the provider said: Replicate's `error`; crazyhorse's `error`, all-images' `data.error` (undocumented, read if sent). */
  error?: string;
  /** ISO 8601; the time of receipt where the provider sent none. */
  createdAt: string;
  /**
   * Where the generation was before this delivery: absent on the first one heard of. On
   * `generation.stale`, the status it stays at (this delivery did not move it forward).
   */
  previousStatus?: Exclude<GenerationStatus, "unknown">;
  /** The caller's own JSON object given to `webhooks.generations.track()`; absent on a generation not tracked. */
  metadata?: Record<string, unknown>;
}

/** What every listener of a delivery receives. `P` is the provider's name; the payload is typed from its schema. */
export interface WebhookEvent<P extends string = ProviderName, Payload = P extends ProviderName ? ProviderPayloads[P] : unknown> {
  /** The delivery's idempotency key (all-images: the envelope `id`; crazyhorse: `code:state`). */
  id: string;
  provider: P;
  /** The provider-specific event name, e.g. `crazyhorse.done`. */
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
}

/** Where an event came from: a webhook delivery, or the provider's API (`reconcile`). */
export type EventOrigin = "webhook" | "reconciled";

/** The providers a receiver knows, by name: the built-in ones, and those passed in `customProviders`. */
export type ProviderSet = { readonly [name: string]: AnyProvider };

type TypesOf<P extends AnyProvider> = NonNullable<P["__types"]>;
type Names<Ps extends ProviderSet> = keyof Ps & string;

/** A delivery of any provider of the set: narrow it on `provider`. */
export type AnyWebhookEvent<Ps extends ProviderSet = BuiltInProviders> = {
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
export interface DeadDelivery<Ps extends ProviderSet = BuiltInProviders> {
  event: AnyWebhookEvent<Ps>;
  /** What the last attempt threw. */
  error: unknown;
  attempts: number;
}

/** The argument of the `image.failed` event: an image of the generation that `keepImages` could not keep. */
export interface ImageFailed<Ps extends ProviderSet = BuiltInProviders> {
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

type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void ? I : never;

/** `crazyhorse.done`, `all-images.print.completed`, …: each known event with its own payload type. */
type ProviderSpecificEvents<Ps extends ProviderSet> = UnionToIntersection<
  {
    [P in Names<Ps>]: {
      [E in keyof TypesOf<Ps[P]>["events"] & string as `${P}.${E}`]: WebhookEvent<P, TypesOf<Ps[P]>["events"][E]>;
    };
  }[Names<Ps>]
>;

type ProviderWideEvents<Ps extends ProviderSet> = { [P in Names<Ps>]: WebhookEvent<P, TypesOf<Ps[P]>["payload"]> };

type GenerationEvents<Ps extends ProviderSet> = { [S in GenerationStatus | "stale" as `generation.${S}`]: AnyWebhookEvent<Ps> };

/** Every event a `Webhooks` emitter emits, with the argument its listeners receive. */
export type WebhookEventMap<Ps extends ProviderSet = BuiltInProviders> = ProviderSpecificEvents<Ps> &
  ProviderWideEvents<Ps> &
  GenerationEvents<Ps> & {
    generation: AnyWebhookEvent<Ps>;
    "*": AnyWebhookEvent<Ps>;
    invalid: InvalidDelivery;
    duplicate: AnyWebhookEvent<Ps>;
    error: WebhookHandlerError;
    dead: DeadDelivery<Ps>;
    "image.failed": ImageFailed<Ps>;
  };

/** Every event name the typed `on()`, `once()` and `off()` accept. */
export type WebhookEventName<Ps extends ProviderSet = BuiltInProviders> = keyof WebhookEventMap<Ps> & string;

/** A listener may be async: the answer to the provider waits for it (up to `handlerTimeoutMs`). */
export type WebhookListener<K extends WebhookEventName<Ps>, Ps extends ProviderSet = BuiltInProviders> = (
  event: WebhookEventMap<Ps>[K],
) => unknown;
