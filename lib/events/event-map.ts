// The typed emitter's map: every event a `Webhooks` emitter emits, with what its listeners receive.
// The event types it maps live below it (generations/generation.ts, webhook-event.ts) and the listener's error
// beside it (handler-error.ts), so that none of them imports this map back.
import type { GenerationStatus } from "../generations/generation";
import type { WebhookHandlerError } from "../errors/handler-error";
import type {
  AnyWebhookEvent,
  DeadDelivery,
  ImageFailed,
  InvalidDelivery,
  KnownProviderSet,
  Names,
  ProviderSet,
  TypesOf,
  WebhookEvent,
} from "./webhook-event";

export { GENERATION_STATUSES, type GeneratedImage, type Generation, type GenerationStatus } from "../generations/generation";
export type {
  AnyWebhookEvent,
  DeadDelivery,
  EventOrigin,
  ImageFailed,
  InvalidDelivery,
  ProviderSet,
  SchemaError,
  WebhookEvent,
} from "./webhook-event";

type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void ? I : never;

/** `<provider>.<event>`: each known event with its own payload type. */
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
export type WebhookEventMap<Ps extends ProviderSet = KnownProviderSet> = ProviderSpecificEvents<Ps> &
  ProviderWideEvents<Ps> &
  GenerationEvents<Ps> & {
    generation: AnyWebhookEvent<Ps>;
    "*": AnyWebhookEvent<Ps>;
    invalid: InvalidDelivery;
    duplicate: AnyWebhookEvent<Ps>;
    error: WebhookHandlerError<AnyWebhookEvent<Ps>>;
    dead: DeadDelivery<Ps>;
    "image.failed": ImageFailed<Ps>;
  };

/** Every event name the typed `on()`, `once()` and `off()` accept. */
export type WebhookEventName<Ps extends ProviderSet = KnownProviderSet> = keyof WebhookEventMap<Ps> & string;

/** A listener may be async: the answer to the provider waits for it (up to `handlerTimeoutMs`). */
export type WebhookListener<K extends WebhookEventName<Ps>, Ps extends ProviderSet = KnownProviderSet> = (
  event: WebhookEventMap<Ps>[K],
) => unknown;
