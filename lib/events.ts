import type { WebhookHandlerError } from "./errors";
import type { ProviderName, ProviderPayloads, ProviderEventPayloads } from "./providers/index";

/** The normalized status of a generation, the same for every provider. */
export type GenerationStatus = "queued" | "processing" | "progress" | "completed" | "failed" | "unknown";

export const GENERATION_STATUSES: readonly GenerationStatus[] = [
  "queued",
  "processing",
  "progress",
  "completed",
  "failed",
  "unknown",
];

export interface GeneratedImage {
  /** Absolute where the provider's `imageBaseUrl` is set and the provider sent a relative path. */
  url: string;
  id?: string;
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
  /** ISO 8601; the time of receipt where the provider sent none. */
  createdAt: string;
}

/** What every listener of a delivery receives. */
export interface WebhookEvent<P extends ProviderName = ProviderName, Payload = ProviderPayloads[P]> {
  /** The delivery's idempotency key (all-images: the envelope `id`; crazyhorse: `code:state`). */
  id: string;
  provider: P;
  /** The provider-specific event name, e.g. `crazyhorse.done`. */
  name: string;
  /** The provider's body as it was sent, typed from its JSON Schema. */
  payload: Payload;
  generation: Generation<P>;
  receivedAt: Date;
}

/** A delivery of any configured provider: narrow it on `provider`. */
export type AnyWebhookEvent = { [P in ProviderName]: WebhookEvent<P> }[ProviderName];

/** The argument of the `invalid` event: no secret and no body, only why it was refused. */
export interface InvalidDelivery {
  provider: string;
  status: number;
  /** A machine-readable word, e.g. `auth.failed`, `schema.invalid` (see `WebhookErrorCode`). */
  reason: string;
  errors?: SchemaError[];
}

export interface SchemaError {
  instancePath: string;
  message: string;
}

type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void
  ? I
  : never;

/** `crazyhorse.done`, `all-images.print.completed`, …: each known event with its own payload type. */
type ProviderSpecificEvents = UnionToIntersection<
  {
    [P in ProviderName]: {
      [E in keyof ProviderEventPayloads[P] & string as `${P}.${E}`]: WebhookEvent<P, ProviderEventPayloads[P][E]>;
    };
  }[ProviderName]
>;

type ProviderWideEvents = { [P in ProviderName]: WebhookEvent<P> };

type GenerationEvents = { [S in GenerationStatus as `generation.${S}`]: AnyWebhookEvent };

/** Every event a `Webhooks` emitter emits, with the argument its listeners receive. */
export type WebhookEventMap = ProviderSpecificEvents &
  ProviderWideEvents &
  GenerationEvents & {
    generation: AnyWebhookEvent;
    "*": AnyWebhookEvent;
    invalid: InvalidDelivery;
    duplicate: AnyWebhookEvent;
    error: WebhookHandlerError;
  };

export type WebhookEventName = keyof WebhookEventMap & string;

/** A listener may be async: the answer to the provider waits for it (up to `handlerTimeoutMs`). */
export type WebhookListener<K extends WebhookEventName> = (event: WebhookEventMap[K]) => unknown;
