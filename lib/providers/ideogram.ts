import type { FromSchema } from "json-schema-to-ts";
import { ed25519Jwks, signedLines } from "../signatures/ed25519-jwks";
import { defineProvider } from "./define-provider";
import { failureReason, statusMap } from "./provider";
import { getJson, ProviderApiError } from "./provider-api";

/**
 * Ideogram's webhook: sent when an async generation is done, its images in `data`. Signed with
 * Ed25519 over `generation id \n user id \n timestamp \n hex(sha256(body))`, under the key
 * `X-Ideogram-Webhook-Key-Id` names, from the JWKS Ideogram publishes and uses for every customer.
 * A read-back adds the generation's `status` (`pending`, `completed`, `failed`).
 */
export const ideogramSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:ideogram",
  title: "Ideogram generation webhook delivery",
  type: "object",
  required: ["generation_id"],
  properties: {
    generation_id: { type: "string", minLength: 1, description: "The generation's id: the same on every retry." },
    created: { type: "string", description: "When the generation was created, ISO 8601." },
    status: {
      type: "string",
      minLength: 1,
      description: "Absent from the webhook, which is sent when the generation is done; a read-back's pending, completed or failed.",
    },
    data: {
      type: "array",
      items: {
        type: "object",
        properties: {
          url: { anyOf: [{ type: "string" }, { type: "null" }], description: "The image; expires after 24 hours." },
          prompt: { type: "string" },
          resolution: { type: "string" },
          seed: { type: "number" },
          is_image_safe: { type: "boolean" },
        },
      },
    },
    error: { description: "Why it failed, where a read-back says." },
  },
} as const;

/** An Ideogram delivery body, typed from `ideogramSchema`. */
export type IdeogramPayload = FromSchema<typeof ideogramSchema>;

/** Ideogram's published signing keys. */
export const IDEOGRAM_JWKS_URL = "https://api.ideogram.ai/v1/.well-known/jwks.json";

/** Ideogram's webhook signature: Ed25519 under a named key of its JWKS, the account in `X-Ideogram-Webhook-User-Id`. */
export const ideogramSignature = ed25519Jwks({
  jwksUrl: IDEOGRAM_JWKS_URL,
  signatureHeader: "x-ideogram-webhook-signature",
  timestampHeader: "x-ideogram-webhook-timestamp",
  userIdHeader: "x-ideogram-webhook-user-id",
  keyIdHeader: "x-ideogram-webhook-key-id",
  message: signedLines(["x-ideogram-webhook-generation-id", "x-ideogram-webhook-user-id", "x-ideogram-webhook-timestamp"]),
});

const status = statusMap(
  { queued: [], processing: ["pending"], progress: [], completed: ["completed"], failed: ["failed"] },
  { ignoreCase: true },
);

const IMAGE_URL = /^(?:https?:\/\/|data:image\/)/i;

export const ideogram = defineProvider({
  name: "ideogram",
  schema: ideogramSchema,
  knownEvents: ["completed", "pending", "failed"],
  // The webhook is sent when the generation is done and carries no status of its own.
  eventName: (payload) => (payload.status ?? "completed").toLowerCase(),
  idempotencyKey: (payload) => `${payload.generation_id}:${(payload.status ?? "completed").toLowerCase()}`,
  normalize(payload, { resolveImageUrl, receivedAt }) {
    const data = payload.data ?? [];
    const images = data
      .filter((image): image is typeof image & { url: string } => typeof image.url === "string" && IMAGE_URL.test(image.url))
      .map((image) => ({ url: resolveImageUrl(image.url) }));
    const first = data[0];
    const error = failureReason(payload.error);
    return {
      id: payload.generation_id,
      status: status(payload.status ?? "completed"),
      images,
      ...(typeof first?.prompt === "string" && { prompt: first.prompt }),
      params: {
        ...(first?.resolution !== undefined && { resolution: first.resolution }),
        ...(first?.seed !== undefined && { seed: first.seed }),
      },
      createdAt: payload.created ?? receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  authentication: [ideogramSignature],
  // The generation as the API gives it: its status beside the webhook's fields.
  async fetchGeneration(id, api) {
    const path = `/v1/generations/${encodeURIComponent(id)}`;
    const answer = (await getJson(api, path, api.headers)) as Record<string, unknown> | null;
    if (typeof answer !== "object" || answer === null || Array.isArray(answer) || typeof answer.status !== "string") {
      throw new ProviderApiError(`the API answered ${path} without a generation's status`, 200);
    }
    return { ...answer, generation_id: id, status: answer.status, data: Array.isArray(answer.data) ? answer.data : [] };
  },
  apiBaseUrl: "https://api.ideogram.ai",
  credential: { option: "apiKey", header: "api-key" },
  cliEvents: "completed (the webhook's), or a read-back's pending or failed",
});
