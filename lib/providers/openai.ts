import type { FromSchema } from "json-schema-to-ts";
import { base64ToBytes } from "../text/encoding";
import type { GeneratedImage, Generation, GenerationStatus } from "../generations/generation";
import { getHeader } from "../http/headers";
import { defineProvider } from "./define-provider";
import { getJson, type ProviderApi } from "./provider-api";

/**
 * An OpenAI webhook event: thin, it names what happened and the object it happened to, nothing
 * more. Signed the Standard Webhooks way with the endpoint's `whsec_` secret.
 */
export const openaiSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:openai",
  title: "OpenAI webhook event",
  type: "object",
  required: ["id", "type", "data"],
  properties: {
    id: { type: "string", minLength: 1, description: "The event's id, `evt_…`: the same on each retry (it is also `webhook-id`)." },
    object: { const: "event" },
    type: {
      type: "string",
      minLength: 1,
      description:
        "response.completed, response.failed, response.cancelled, response.incomplete; batch.*, fine_tuning.job.*, eval.run.*, realtime.call.incoming and others are expected.",
    },
    created_at: { type: "integer", description: "Unix seconds." },
    data: {
      type: "object",
      required: ["id"],
      properties: {
        id: { type: "string", minLength: 1, description: "The object it is about: a response's `resp_…`, a batch's `batch_…`." },
      },
    },
  },
} as const;

/** An OpenAI webhook event, typed from `openaiSchema`. */
export type OpenAIPayload = FromSchema<typeof openaiSchema>;

/**
 * A response as `GET /v1/responses/{id}` answers it: the fields read here. An image is an `output`
 * item of type `image_generation_call` whose `result` is the image, base64.
 */
export const openaiResponseSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:openai-response",
  title: "OpenAI response object",
  type: "object",
  required: ["id", "object", "status", "output"],
  properties: {
    id: { type: "string", minLength: 1 },
    object: { const: "response" },
    status: { type: "string", description: "completed, failed, in_progress, cancelled, queued or incomplete." },
    created_at: { type: "number" },
    error: { anyOf: [{ type: "null" }, { type: "object", properties: { code: { type: "string" }, message: { type: "string" } } }] },
    incomplete_details: { anyOf: [{ type: "null" }, { type: "object", properties: { reason: { type: "string" } } }] },
    model: { type: "string" },
    output: {
      type: "array",
      items: {
        type: "object",
        required: ["type"],
        properties: {
          type: { type: "string" },
          id: { type: "string" },
          status: { type: "string" },
          result: { anyOf: [{ type: "string" }, { type: "null" }], description: "An image_generation_call's image, base64." },
          output_format: { type: "string", description: "png, jpeg or webp, where the API says." },
          revised_prompt: { type: "string" },
        },
      },
    },
  },
} as const;

/** A response read back from OpenAI's API, typed from `openaiResponseSchema`. */
export type OpenAIResponse = FromSchema<typeof openaiResponseSchema>;

const RESPONSE_EVENTS = ["response.completed", "response.failed", "response.cancelled", "response.incomplete"] as const;

const STATUSES: Record<string, GenerationStatus> = {
  "response.completed": "completed",
  "response.failed": "failed",
  // A cancelled or incomplete response produces nothing more: for a receiver waiting on images, it failed.
  "response.cancelled": "failed",
  "response.incomplete": "failed",
};

const REASONS: Record<string, string> = {
  "response.failed": "the response failed",
  "response.cancelled": "the response was cancelled",
  "response.incomplete": "the response is incomplete",
};

/** The event type of a response's status, for `reconcile`: the webhook it would have sent. */
const EVENT_OF_STATUS: Record<string, string> = {
  completed: "response.completed",
  failed: "response.failed",
  cancelled: "response.cancelled",
  incomplete: "response.incomplete",
};

const MEDIA_TYPES: Record<string, string> = { png: "image/png", jpeg: "image/jpeg", jpg: "image/jpeg", webp: "image/webp" };
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A response's images: each `image_generation_call` with a base64 `result`, as bytes (and a `data:` URL of them). */
export function responseImages(response: OpenAIResponse): GeneratedImage[] {
  const images: GeneratedImage[] = [];
  for (const item of response.output) {
    if (item.type !== "image_generation_call" || typeof item.result !== "string" || item.result === "") continue;
    const base64 = item.result.replace(/\s+/g, "");
    const bytes = BASE64.test(base64) ? base64ToBytes(base64) : undefined;
    if (!bytes || bytes.byteLength === 0) continue;
    // PNG unless the request asked otherwise; keepImages sniffs the bytes all the same.
    const contentType = MEDIA_TYPES[String(item.output_format ?? "png").toLowerCase()] ?? "image/png";
    images.push({
      url: `data:${contentType};base64,${base64}`,
      bytes,
      contentType,
      ...(typeof item.id === "string" && { id: item.id }),
    });
  }
  return images;
}

const isResponseEvent = (type: string): boolean => type.startsWith("response.");

/** The maximum answer a read-back reads: a response carries its images inline, base64. */
export const OPENAI_READ_BACK_MAX_BYTES = 64 * 1024 * 1024;

async function readResponse(id: string, api: ProviderApi): Promise<OpenAIResponse> {
  return (await getJson(api, `/v1/responses/${encodeURIComponent(id)}`, api.headers)) as OpenAIResponse;
}

export const openai = defineProvider({
  name: "openai",
  schema: openaiSchema,
  knownEvents: [...RESPONSE_EVENTS],
  eventName: (payload) => payload.type,
  // `webhook-id` is the event's id, the same on each retry.
  idempotencyKey: (payload, { headers }) => getHeader(headers, "webhook-id") ?? payload.id,
  isGeneration: (payload) => isResponseEvent(payload.type),
  normalize(payload, { receivedAt }) {
    const error = REASONS[payload.type];
    return {
      id: payload.data.id,
      status: Object.prototype.hasOwnProperty.call(STATUSES, payload.type) ? (STATUSES[payload.type] as GenerationStatus) : "unknown",
      // The event names the response only: with an apiKey its images are read back before the events fire.
      images: [],
      params: {},
      createdAt: typeof payload.created_at === "number" ? new Date(payload.created_at * 1000).toISOString() : receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  authentication: ["signature"],
  complete: {
    needs: (generation: Generation<string>) => generation.status === "completed",
    schema: openaiResponseSchema,
    read: (generation, api) => readResponse(generation.id, api),
    idOf: (answer) => (answer as OpenAIResponse).id,
    apply: (_generation, answer) => ({ images: responseImages(answer as OpenAIResponse) }),
    maxBytes: OPENAI_READ_BACK_MAX_BYTES,
    withoutCredential: "OpenAI's webhook names a response and carries no image, so openai's events will carry no images",
  },
  // The response as the API gives it, as the event it would have sent; its images are read with it.
  async fetchGeneration(id, api): Promise<OpenAIPayload> {
    const response = await readResponse(id, api);
    const status = typeof response?.status === "string" ? response.status : "";
    return {
      id: `evt_read_back_${id}`,
      object: "event",
      type: EVENT_OF_STATUS[status] ?? `response.${status || "unknown"}`,
      created_at: Math.floor(Date.now() / 1000),
      data: { id: typeof response?.id === "string" ? response.id : "" },
    };
  },
  apiBaseUrl: "https://api.openai.com",
  credential: { option: "apiKey", header: "authorization", prefix: "Bearer " },
  cliEvents: "OpenAI's event type (response.completed, response.failed, response.cancelled, response.incomplete, batch.completed, ...)",
});
