// The event types as the package exports them: the same as events.ts's, typed by default by the
// built-in providers, so that `AnyWebhookEvent` narrows on their names and `WebhookEvent<"replicate">`
// has Replicate's payload. Only the exports name the built-in providers; the layers below do not.
import type * as events from "./events";
import type { BuiltInProviders, ProviderName, ProviderPayloads } from "./providers/index";
import type { ProviderSet } from "./webhook-event";

export type { EventOrigin, GeneratedImage, GenerationStatus, InvalidDelivery, ProviderSet, SchemaError } from "./events";

/** One shape for a generation job, whatever provider sent it. */
export type Generation<P extends string = ProviderName> = events.Generation<P>;
/** What every listener of a delivery receives. `P` is the provider's name; the payload is typed from its schema. */
export type WebhookEvent<
  P extends string = ProviderName,
  Payload = P extends ProviderName ? ProviderPayloads[P] : unknown,
> = events.WebhookEvent<P, Payload>;
/** A delivery of any provider of the set: narrow it on `provider`. */
export type AnyWebhookEvent<Ps extends ProviderSet = BuiltInProviders> = events.AnyWebhookEvent<Ps>;
/** The argument of the `dead` event: a stored delivery whose last attempt failed. It stays in the inbox, for inspection and replay. */
export type DeadDelivery<Ps extends ProviderSet = BuiltInProviders> = events.DeadDelivery<Ps>;
/** The argument of the `image.failed` event: an image of the generation that `keepImages` could not keep. */
export type ImageFailed<Ps extends ProviderSet = BuiltInProviders> = events.ImageFailed<Ps>;
/** Every event a `Webhooks` emitter emits, with the argument its listeners receive. */
export type WebhookEventMap<Ps extends ProviderSet = BuiltInProviders> = events.WebhookEventMap<Ps>;
/** Every event name the typed `on()`, `once()` and `off()` accept. */
export type WebhookEventName<Ps extends ProviderSet = BuiltInProviders> = events.WebhookEventName<Ps>;
/** A listener may be async: the answer to the provider waits for it (up to `handlerTimeoutMs`). */
export type WebhookListener<K extends WebhookEventName<Ps>, Ps extends ProviderSet = BuiltInProviders> = events.WebhookListener<K, Ps>;
