import type { FromSchema } from "json-schema-to-ts";
import { defineProvider } from "./define-provider";
import { failureReason, statusMap } from "./provider";
import { getJson, ProviderApiError } from "./provider-api";

/**
 * A Leonardo.ai webhook callback: an envelope (`type`, `object`, `timestamp` in milliseconds,
 * `api_version`) around the generation in `data.object`, sent when a generation ends, with the
 * webhook key of the production API key as `Authorization: Bearer <key>`. About sixty fields of the
 * generation are documented; the schema names those that are read and leaves the others allowed.
 */
export const leonardoSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:leonardo",
  title: "Leonardo.ai webhook callback",
  type: "object",
  required: ["type", "data"],
  properties: {
    type: { type: "string", minLength: 1, description: "What happened, e.g. image_generation.complete; others are expected." },
    object: { type: "string", description: "What data.object is, e.g. generation." },
    timestamp: { type: "number", description: "When the callback was sent, in Unix milliseconds." },
    api_version: { type: "string" },
    data: {
      type: "object",
      required: ["object"],
      properties: {
        object: {
          type: "object",
          description: "The generation.",
          required: ["id", "status"],
          properties: {
            id: { type: "string", minLength: 1 },
            status: { type: "string", minLength: 1, description: "PENDING, COMPLETE or FAILED; others are expected." },
            prompt: { type: "string" },
            negativePrompt: { anyOf: [{ type: "string" }, { type: "null" }] },
            modelId: { anyOf: [{ type: "string" }, { type: "null" }] },
            imageWidth: { anyOf: [{ type: "integer" }, { type: "null" }] },
            imageHeight: { anyOf: [{ type: "integer" }, { type: "null" }] },
            seed: { anyOf: [{ type: "string" }, { type: "number" }, { type: "null" }] },
            createdAt: { type: "string", format: "date-time" },
            images: {
              type: "array",
              items: {
                type: "object",
                required: ["url"],
                properties: { id: { type: "string" }, url: { type: "string" }, nsfw: { type: "boolean" } },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** A Leonardo.ai callback body, typed from `leonardoSchema`. */
export type LeonardoPayload = FromSchema<typeof leonardoSchema>;
/** The generation a callback carries, as `data.object`. */
export type LeonardoGeneration = LeonardoPayload["data"]["object"];

/** The one event type Leonardo documents: sent when a generation ends, its `status` saying how. */
export const LEONARDO_COMPLETE = "image_generation.complete";

const toStatus = statusMap(
  { queued: [], processing: ["PENDING"], progress: [], completed: ["COMPLETE"], failed: ["FAILED"] },
  // Leonardo's statuses are upper case; one in another case is still the same word.
  { ignoreCase: true },
);

// What is not a request parameter: the generation's identity and outcome, and the API key object
// the documented callback echoes (its `key` and `webhookCallbackApiKey` are credentials).
const NOT_PARAMS = new Set(["id", "status", "prompt", "images", "createdAt", "updatedAt", "userId", "apiKey", "apiKeyId", "model"]);

/** `timestamp` is only typed a number: one out of the Date range must not throw. */
function millisToIso(ms: number | undefined): string | undefined {
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The generation as `GET /api/rest/v1/generations/{id}` answers it: `generated_images` where a callback has `images`. */
type ApiGeneration = Omit<LeonardoGeneration, "images"> & { generated_images?: LeonardoGeneration["images"] };

export const leonardo = defineProvider({
  name: "leonardo",
  schema: leonardoSchema,
  knownEvents: [LEONARDO_COMPLETE],
  eventName: (payload) => payload.type,
  // Leonardo's callback carries no delivery id, and a resend may carry a new `timestamp`: the
  // generation and where it ended are what one callback is about, and what a resend repeats.
  idempotencyKey: ({ type, data }) => `${type}:${data.object.id}:${data.object.status}`,
  normalize({ data, timestamp }, { resolveImageUrl, receivedAt }) {
    const generation = data.object;
    const params: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(generation)) {
      if (NOT_PARAMS.has(key)) continue;
      // defineProperty, so that a field named "__proto__" stays a plain key.
      Object.defineProperty(params, key, { value, writable: true, enumerable: true, configurable: true });
    }
    // No failure field is documented; an `error` or `failedReason` is read where one is sent.
    const { error, failedReason } = generation as { error?: unknown; failedReason?: unknown };
    const reason = failureReason(error) ?? failureReason(failedReason);
    return {
      id: generation.id,
      status: toStatus(generation.status),
      images: (generation.images ?? []).map((image) => ({
        url: resolveImageUrl(image.url),
        ...(image.id !== undefined && { id: image.id }),
      })),
      ...(generation.prompt !== undefined && { prompt: generation.prompt }),
      params,
      createdAt: generation.createdAt ?? millisToIso(timestamp) ?? receivedAt.toISOString(),
      ...(reason !== undefined && { error: reason }),
    };
  },
  // A static key Leonardo sends as `Authorization: Bearer`: a token, never a signature.
  authentication: ["token"],
  // The API answers `{ generations_by_pk: <generation> }` (null when there is none), its images
  // under `generated_images`: put in the envelope a callback would carry, under the callback's type.
  async fetchGeneration(id, api) {
    const answer = await getJson(api, `/api/rest/v1/generations/${encodeURIComponent(id)}`, api.headers);
    const found = typeof answer === "object" && answer !== null ? (answer as { generations_by_pk?: unknown }).generations_by_pk : undefined;
    if (found === null) throw new ProviderApiError(`the API has no generation ${id} (generations_by_pk is null)`, 404);
    const { generated_images, ...generation } = (found ?? {}) as ApiGeneration;
    return {
      type: LEONARDO_COMPLETE,
      object: "generation",
      timestamp: Date.now(),
      api_version: "v1",
      data: { object: { ...generation, ...(generated_images !== undefined && { images: generated_images }) } as LeonardoGeneration },
    };
  },
  apiBaseUrl: "https://cloud.leonardo.ai",
  credential: { option: "apiKey", header: "authorization", prefix: "Bearer " },
  cliEvents: "Leonardo's type (image_generation.complete; the generation's status says how it ended)",
});
