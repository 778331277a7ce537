import type { FromSchema } from "json-schema-to-ts";
import { defineProvider } from "./define-provider";
import { failureReason, statusMap, type Provider } from "./provider";
import { getJson } from "./provider-api";

const TYPES = {
  queued: ["print.created"],
  processing: ["print.active"],
  progress: ["print.progress"],
  completed: ["print.completed"],
  failed: ["print.failed"],
} as const;

/** An all-images.ai delivery: the "generic data" envelope around an Image Generation object. */
export const allImagesSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:all-images",
  title: "all-images.ai webhook delivery",
  type: "object",
  required: ["id", "type", "data"],
  properties: {
    id: { type: "string", minLength: 1, description: "The delivery's id: its idempotency key." },
    api_version: { type: "number" },
    created: { type: "number", description: "When the event was created, a Unix timestamp." },
    type: { type: "string", minLength: 1, description: "What happened, e.g. print.completed; others are expected." },
    data: {
      type: "object",
      description: "The Image Generation object.",
      required: ["id"],
      properties: {
        id: { type: "string", minLength: 1 },
        name: { type: "string" },
        prompt: { type: "string" },
        status: { type: "integer", description: "0 Create, 1 Pending, 2 Processing, 3 Done, 4 Error." },
        params: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "value"],
            properties: { name: { type: "string" }, value: { type: "string" } },
          },
        },
        images: {
          type: "array",
          items: {
            type: "object",
            required: ["url"],
            properties: {
              id: { type: "string" },
              url: { type: "string" },
              validate: { type: "boolean" },
              free: { type: "boolean" },
              titles: { type: "object" },
            },
          },
        },
        nbImages: { type: "integer" },
        tags: { type: "array", items: { type: "string" } },
        metaData: { type: "object" },
        createdAt: { type: "string", format: "date-time" },
      },
    },
  },
} as const;

/** An all-images.ai delivery body, typed from `allImagesSchema`. */
export type AllImagesPayload = FromSchema<typeof allImagesSchema>;

/** The `data.status` (0 Create, 1 Pending, 2 Processing, 3 Done, 4 Error) that goes with each documented `type`. */
export const ALL_IMAGES_STATUS: Readonly<Record<string, number>> = {
  "print.created": 0,
  "print.active": 2,
  "print.progress": 2,
  "print.completed": 3,
  "print.failed": 4,
};

type KnownType = (typeof TYPES)[keyof typeof TYPES][number];
export type AllImagesEvents = { [T in KnownType]: AllImagesPayload };

// The design names the types exactly; a type in another case is one nobody has seen: unknown.
const toStatus = statusMap(TYPES, { ignoreCase: false });

/** `created` is only typed a number: one out of the Date range must not throw. */
function unixTimeToIso(seconds: number | undefined): string | undefined {
  if (seconds === undefined) return undefined;
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export const allImages: Provider<"all-images", AllImagesPayload, AllImagesEvents> = defineProvider({
  name: "all-images",
  schema: allImagesSchema,
  knownEvents: Object.values(TYPES).flat(),
  eventName: (payload) => payload.type,
  idempotencyKey: (payload) => payload.id,
  normalize({ type, data, created }, { resolveImageUrl, receivedAt }) {
    // The API documents no failure field; a `data.error` is read where one is sent.
    const error = failureReason((data as { error?: unknown }).error);
    return {
      id: data.id,
      status: toStatus(type),
      images: (data.images ?? []).map((image) => ({
        url: resolveImageUrl(image.url),
        ...(image.id !== undefined && { id: image.id }),
      })),
      ...(data.prompt !== undefined && { prompt: data.prompt }),
      // fromEntries defines own properties, so a parameter named "__proto__" stays a plain key.
      params: Object.fromEntries((data.params ?? []).map(({ name, value }) => [name, value])),
      createdAt: data.createdAt ?? unixTimeToIso(created) ?? receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  // No signature scheme is documented: a token the receiver chose proves the sender; a relay may sign.
  authentication: ["token", "signature"],
  answer: { status: 200, headers: {}, body: "" },
  // The API answers the Image Generation object alone: it is put in an envelope as a webhook
  // would carry it, its type read from its status, its id saying where it came from.
  async fetchGeneration(id, api) {
    const data = (await getJson(api, `/v1/image-generations/${encodeURIComponent(id)}`, api.headers)) as AllImagesPayload["data"];
    const status = typeof data === "object" && data !== null ? data.status : undefined;
    return {
      id: `reconciled:${String(data?.id)}:${String(status)}`,
      api_version: 1,
      created: Math.floor(Date.now() / 1000),
      type: TYPE_OF_STATUS[status ?? -1] ?? "print.unknown",
      data,
    };
  },
  apiBaseUrl: "https://api.all-images.ai",
  credential: { option: "apiKey", header: "api-key" },
  cliEvents: "all-images' type (print.created, print.active, print.progress, print.completed, print.failed, ...)",
});

/** The webhook `type` that goes with each `data.status` the API answers (0 Create … 4 Error). */
const TYPE_OF_STATUS: Readonly<Record<number, string>> = {
  0: "print.created",
  1: "print.created",
  2: "print.active",
  3: "print.completed",
  4: "print.failed",
};
