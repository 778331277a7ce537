import type { FromSchema } from "json-schema-to-ts";
import type { GenerationStatus } from "../generations/generation";
import { sha256 } from "../crypto/sha256";
import { bytesToBase64 } from "../text/encoding";
import { getHeader } from "../http/headers";
import { defineProvider } from "./define-provider";
import { getJson } from "./provider-api";
import { failureReason } from "./provider";

const encoder = new TextEncoder();

/** 22 base64url characters (132 bits) of the body's SHA-256: the same on every runtime. */
function contentKey(body: string): string {
  return bytesToBase64(sha256(encoder.encode(body)))
    .slice(0, 22)
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}

/**
 * A Replicate prediction webhook: the prediction object itself, sent when it starts, as it logs and
 * outputs, and when it completes, signed the Standard Webhooks way (its `whsec_` secret comes from
 * Replicate's API). Defined through `defineProvider`, as a user's own provider would be.
 */
export const replicateSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:replicate",
  title: "Replicate prediction webhook delivery",
  type: "object",
  required: ["id", "status"],
  properties: {
    id: { type: "string", minLength: 1, description: "The prediction's id." },
    model: { type: "string" },
    version: { type: "string" },
    status: {
      type: "string",
      minLength: 1,
      description: "starting, processing, succeeded, failed or canceled; others are expected.",
    },
    input: { type: "object", description: "The prediction's input, e.g. its prompt." },
    output: { description: "What the model produced so far: for image models, usually an array of URLs." },
    error: { description: "Why it failed, or null." },
    logs: { anyOf: [{ type: "string" }, { type: "null" }] },
    data_removed: { type: "boolean" },
    created_at: { type: "string", format: "date-time" },
    started_at: { anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
    completed_at: { anyOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
    urls: { type: "object", properties: { get: { type: "string" }, cancel: { type: "string" }, stream: { type: "string" } } },
    metrics: { type: "object", properties: { predict_time: { type: "number" } } },
  },
} as const;

/** A Replicate delivery body (a prediction), typed from `replicateSchema`. */
export type ReplicatePayload = FromSchema<typeof replicateSchema>;

const STATUSES: Record<string, GenerationStatus> = {
  starting: "queued",
  processing: "processing",
  succeeded: "completed",
  failed: "failed",
  // A canceled prediction produces nothing more: for a receiver waiting on images, it failed.
  canceled: "failed",
};

/** An image in an output: a URL, or an inline image. A text model's output is text, not an image. */
const IMAGE_OUTPUT = /^(?:https?:\/\/|data:image\/)/i;

/** Image URLs in an output: an array of them (most image models), or one. */
function outputUrls(output: unknown): string[] {
  const values = Array.isArray(output) ? output : [output];
  return values.filter((value): value is string => typeof value === "string" && IMAGE_OUTPUT.test(value));
}

export const replicate = defineProvider({
  name: "replicate",
  schema: replicateSchema,
  knownEvents: ["starting", "processing", "succeeded", "failed", "canceled"],
  eventName: (payload) => payload.status,
  // `webhook-id` stays the same across retries of one message, and differs between two
  // `processing` updates of one prediction. Unsigned, the body itself tells a retry from an update.
  idempotencyKey: (payload, { headers }) =>
    getHeader(headers, "webhook-id") ?? `${payload.id}:${payload.status}:${contentKey(JSON.stringify(payload))}`,
  normalize(payload, { resolveImageUrl, receivedAt }) {
    const { prompt, image, ...params } = (payload.input ?? {}) as Record<string, unknown>;
    const error = failureReason(payload.error);
    return {
      id: payload.id,
      status: Object.prototype.hasOwnProperty.call(STATUSES, payload.status) ? (STATUSES[payload.status] as GenerationStatus) : "unknown",
      images: outputUrls(payload.output).map((url) => ({ url: resolveImageUrl(url) })),
      ...(typeof image === "string" && { sourceImageUrl: resolveImageUrl(image) }),
      ...(typeof prompt === "string" && { prompt }),
      params,
      createdAt: payload.created_at ?? receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  authentication: ["signature", "token"],
  // The prediction as the API gives it is the body its webhooks carry.
  fetchGeneration: async (id, api) => (await getJson(api, `/v1/predictions/${encodeURIComponent(id)}`, api.headers)) as ReplicatePayload,
  apiBaseUrl: "https://api.replicate.com",
  credential: { option: "apiToken", header: "authorization", prefix: "Bearer " },
  cliEvents: "Replicate's status (starting, processing, succeeded, failed, canceled)",
});
