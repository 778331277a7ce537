// Compiled by types.test.ts: it must type-check with no error. Each `@ts-expect-error` line must
// really be an error, or the compiler reports the unused directive and the test fails.
import {
  createWebhooks,
  type AnyWebhookEvent,
  type GenerationStatus,
  type InvalidDelivery,
  type WebhookEvent,
  type WebhookHandlerError,
} from "imagegen-webhooks";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

const webhooks = createWebhooks({ providers: { crazyhorse: { secret: "s" }, "all-images": { secret: "t" } } });

webhooks.on("crazyhorse.done", (event) => {
  assertType<Equal<typeof event.payload.generateImageUrls, string[]>>();
  assertType<Equal<typeof event.provider, "crazyhorse">>();
  assertType<Equal<typeof event.payload.code, string>>();
  assertType<Equal<typeof event.generation.images, { url: string; id?: string }[]>>();
  return event.payload.generateImageUrls.map((path) => path.toUpperCase());
});

webhooks.on("crazyhorse.waiting", (event) => {
  // Only a completed state guarantees its images.
  assertType<Equal<typeof event.payload.generateImageUrls, string[] | undefined>>();
});

webhooks.once("all-images.print.completed", async (event) => {
  assertType<Equal<typeof event.payload.data.id, string>>();
  assertType<Equal<typeof event.payload.type, string>>();
  assertType<Equal<typeof event.provider, "all-images">>();
});

webhooks.on("generation.completed", (event) => {
  assertType<Equal<typeof event, AnyWebhookEvent>>();
  assertType<Equal<typeof event.generation.status, GenerationStatus>>();
  // The union narrows on the provider.
  if (event.provider === "crazyhorse") assertType<Equal<typeof event.payload.state, string>>();
  else assertType<Equal<typeof event.payload.data.id, string>>();
});

webhooks.on("*", (event) => assertType<Equal<typeof event, AnyWebhookEvent>>());
webhooks.on("duplicate", (event) => assertType<Equal<typeof event, AnyWebhookEvent>>());
webhooks.on("invalid", (invalid) => assertType<Equal<typeof invalid, InvalidDelivery>>());
webhooks.on("error", (err) => assertType<Equal<typeof err, WebhookHandlerError>>());

// @ts-expect-error a misspelled event name does not compile
webhooks.on("crazyhorse.dnoe", () => {});
// @ts-expect-error nor a misspelled provider
webhooks.on("crazyhorce.done", () => {});
// @ts-expect-error nor a misspelled generation status
webhooks.on("generation.complete", () => {});
// @ts-expect-error a listener must accept the event it is given
webhooks.on("crazyhorse.done", (event: WebhookEvent<"all-images">) => event);
// @ts-expect-error all-images payloads have no generateImageUrls
webhooks.on("all-images.print.completed", (event) => event.payload.generateImageUrls.length);
// @ts-expect-error off() checks its event name too
webhooks.off("crazyhorse.dnoe", () => {});

// @ts-expect-error an unknown provider is refused by the options' type, not only at run time
createWebhooks({ providers: { midjourney: { secret: "s" } } });
// @ts-expect-error a secret is a string or an array of strings
createWebhooks({ providers: { crazyhorse: { secret: 42 } } });
