// Compiled by types.test.ts: it must type-check with no error. Each `@ts-expect-error` line must
// really be an error, or the compiler reports the unused directive and the test fails.
import {
  createWebhooks,
  defineProvider,
  type AnyWebhookEvent,
  type GeneratedImage,
  type GenerationStatus,
  type InvalidDelivery,
  type WebhookEvent,
  type WebhookHandlerError,
  type Webhooks,
  type WebhooksOptions,
} from "imagegen-webhooks";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

const webhooks = createWebhooks({
  providers: {
    crazyhorse: { secret: "s" },
    "all-images": { secret: "t" },
    replicate: { signature: { secret: "whsec_…" } },
    leonardo: { secret: "u" },
    bfl: { signature: { secret: "v" } },
    openai: { signature: { secret: "whsec_…" } },
    fal: { userId: "u" },
    ideogram: { userId: "u" },
  },
});

webhooks.on("crazyhorse.done", (event) => {
  assertType<Equal<typeof event.payload.generateImageUrls, string[]>>();
  assertType<Equal<typeof event.provider, "crazyhorse">>();
  assertType<Equal<typeof event.payload.code, string>>();
  assertType<Equal<typeof event.generation.images, GeneratedImage[]>>();
  assertType<Equal<(typeof event.generation.images)[number]["url"], string>>();
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
  else if (event.provider === "all-images") assertType<Equal<typeof event.payload.data.id, string>>();
  else if (event.provider === "leonardo") assertType<Equal<typeof event.payload.data.object.status, string>>();
  else if (event.provider === "openai") assertType<Equal<typeof event.payload.data.id, string>>();
  else if (event.provider === "ideogram") assertType<Equal<typeof event.payload.generation_id, string>>();
  else assertType<Equal<typeof event.payload.status, string>>();
});

webhooks.on("*", (event) => assertType<Equal<typeof event, AnyWebhookEvent>>());

// Replicate, the built-in provider defined through defineProvider(), is typed from its schema too.
webhooks.on("replicate.succeeded", (event) => {
  assertType<Equal<typeof event.provider, "replicate">>();
  assertType<Equal<typeof event.payload.id, string>>();
  assertType<Equal<typeof event.payload.completed_at, string | null | undefined>>();
});
// @ts-expect-error Replicate's statuses are spelled its way
webhooks.on("replicate.cancelled", () => {});
webhooks.on("duplicate", (event) => assertType<Equal<typeof event, AnyWebhookEvent>>());
webhooks.on("invalid", (invalid) => assertType<Equal<typeof invalid, InvalidDelivery>>());
webhooks.on("error", (err) => {
  assertType<Equal<typeof err extends WebhookHandlerError<infer _> ? true : false, true>>();
  // The quickstart's "err.event is the delivery": not optional, of the providers configured.
  assertType<Equal<typeof err.event.id, string>>();
  assertType<
    Equal<typeof err.event.provider, "crazyhorse" | "all-images" | "replicate" | "leonardo" | "bfl" | "openai" | "fal" | "ideogram">
  >();
});

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

// The events are those of the providers configured: editor completion offers no others.
const crazyhorseOnly = createWebhooks({ providers: { crazyhorse: { secret: "s" } } });
crazyhorseOnly.on("crazyhorse.done", (event) => assertType<Equal<typeof event.provider, "crazyhorse">>());
crazyhorseOnly.on("generation.completed", (event) => assertType<Equal<typeof event.provider, "crazyhorse">>());
crazyhorseOnly.on("*", (event) => assertType<Equal<typeof event.payload.code, string>>());
// @ts-expect-error Replicate is not configured: its events are not offered
crazyhorseOnly.on("replicate.succeeded", () => {});
// @ts-expect-error nor all-images' provider-wide event
crazyhorseOnly.on("all-images", () => {});
// Options built apart, typed WebhooksOptions, name no provider in particular: every provider's events are offered.
declare const built: WebhooksOptions;
createWebhooks(built).on("replicate.succeeded", () => {});
// A receiver of some providers is still a `Webhooks`, as an annotation spells it.
const annotated: Webhooks = crazyhorseOnly;
void annotated;

// A misspelled name's error lists the valid names (not the providers' types expanded): types.test.ts checks the message.
// @ts-expect-error misspelled
crazyhorseOnly.on("crazyhorse.dnoe", () => {});

// @ts-expect-error an unknown provider is refused by the options' type, not only at run time
createWebhooks({ providers: { midjourney: { secret: "s" } } });
// @ts-expect-error a secret is a string or an array of strings
createWebhooks({ providers: { crazyhorse: { secret: 42 } } });
// Both secrets take a setting that may be unset, as read under strict; createWebhooks checks it at run time.
declare const fromEnvironment: string | undefined;
createWebhooks({ providers: { replicate: { signature: { secret: fromEnvironment } }, crazyhorse: { secret: fromEnvironment } } });
createWebhooks({ providers: { replicate: { signature: { secret: [fromEnvironment ?? "", "whsec_b2xk"] } } } });
// @ts-expect-error a signing secret is a string or an array of strings
createWebhooks({ providers: { replicate: { signature: { secret: 42 } } } });
// @ts-expect-error a signature needs its secret named, even if unset
createWebhooks({ providers: { replicate: { signature: {} } } });

// A provider of the user's own: its payload is typed from its schema, its events join the catalog.
const pixelforge = defineProvider({
  name: "pixelforge",
  schema: {
    type: "object",
    required: ["event_id", "job"],
    properties: { event_id: { type: "string" }, job: { type: "string" }, urls: { type: "array", items: { type: "string" } } },
  } as const,
  knownEvents: ["ready"],
  eventName: (payload) => {
    assertType<Equal<typeof payload.job, string>>();
    return "ready";
  },
  idempotencyKey: (payload) => payload.event_id,
  normalize: (payload) => ({ id: payload.job, status: "completed", images: [], params: {}, createdAt: "" }),
});

const withCustom = createWebhooks({
  customProviders: [pixelforge],
  providers: { pixelforge: { secret: "s" }, crazyhorse: { secret: "t" } },
});
withCustom.on("pixelforge.ready", (event) => {
  assertType<Equal<typeof event.provider, "pixelforge">>();
  assertType<Equal<typeof event.payload.urls, string[] | undefined>>();
});
withCustom.on("generation.completed", (event) => {
  // The providers configured, not every one known.
  assertType<Equal<typeof event.provider, "crazyhorse" | "pixelforge">>();
});
withCustom.on("crazyhorse.done", (event) => assertType<Equal<typeof event.payload.generateImageUrls, string[]>>());
// @ts-expect-error a custom provider's events are checked too
withCustom.on("pixelforge.redy", () => {});
// @ts-expect-error its payload has no fields the schema does not name
withCustom.on("pixelforge.ready", (event) => event.payload.state.length);
// @ts-expect-error without customProviders, its name is not a provider
createWebhooks({ providers: { pixelforge: { secret: "s" } } });
