import type { FromSchema } from "json-schema-to-ts";
import { defineProvider } from "./define-provider";
import { failureReason, statusMap } from "./provider";
import { getJson, ProviderApiError } from "./provider-api";
import { hmacSignature } from "../signatures/hmac-signature";

/**
 * A Black Forest Labs (FLUX API) webhook: the task's `id`, `status`, `result` (`sample`, the image
 * URL, valid ten minutes; `prompt`; `seed`) and `timestamp`, with `error` (and sometimes
 * `message`) on failure, signed `X-BFL-Signature: sha256=<hex HMAC-SHA256(webhook_secret, raw
 * body)>`. Documented in BFL's published skill files, not its API reference; the same object
 * without `timestamp` and with `progress`, `details` and `preview` is what `get_result` answers.
 */
export const bflSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:bfl",
  title: "Black Forest Labs webhook delivery",
  type: "object",
  required: ["id", "status"],
  properties: {
    id: { type: "string", minLength: 1, description: "The task's id." },
    status: {
      type: "string",
      minLength: 1,
      description: "Ready, Error, Pending, Request Moderated, Content Moderated or Task not found; others are expected.",
    },
    result: {
      anyOf: [
        {
          type: "object",
          properties: {
            sample: { type: "string", description: "The image's URL: it expires ten minutes after the task ends." },
            prompt: { type: "string" },
            seed: { type: "number" },
          },
        },
        { type: "null" },
      ],
    },
    timestamp: { type: "string", description: "When the webhook was sent, ISO 8601." },
    error: { description: "Why it failed." },
    message: { description: "Why it failed, where BFL says more." },
    progress: { anyOf: [{ type: "number" }, { type: "null" }] },
    details: { anyOf: [{ type: "object" }, { type: "null" }] },
    preview: { anyOf: [{ type: "object" }, { type: "null" }] },
  },
} as const;

/** A Black Forest Labs delivery body (and `get_result` answer), typed from `bflSchema`. */
export type BflPayload = FromSchema<typeof bflSchema>;

/** The statuses BFL documents for a task. */
export const BFL_STATUSES = ["Pending", "Ready", "Error", "Request Moderated", "Content Moderated", "Task not found"] as const;

// `Task not found` is not how a generation ended but that BFL does not know the id: `unknown`.
const toStatus = statusMap(
  { queued: [], processing: ["Pending"], progress: [], completed: ["Ready"], failed: ["Error", "Request Moderated", "Content Moderated"] },
  // BFL spells them one way; the same words in another case are still them.
  { ignoreCase: true },
);

/** `timestamp` is only typed a string: use it where it is a date. */
function isoOrUndefined(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export const bfl = defineProvider({
  name: "bfl",
  schema: bflSchema,
  knownEvents: BFL_STATUSES,
  eventName: (payload) => payload.status,
  // BFL's webhook carries no delivery id and retries the same body: the task and where it ended
  // are what one webhook is about. The signature has no timestamp, so a replay of a captured
  // delivery verifies; this key is what keeps it from running twice.
  idempotencyKey: ({ id, status }) => `${id}:${status}`,
  normalize(payload, { resolveImageUrl, receivedAt }) {
    const { sample, prompt, ...params } = (payload.result ?? {}) as Record<string, unknown>;
    const status = toStatus(payload.status);
    const reason = failureReason(payload.error) ?? failureReason(payload.message) ?? (status === "failed" ? payload.status : undefined);
    return {
      id: payload.id,
      status,
      images: typeof sample === "string" && sample !== "" ? [{ url: resolveImageUrl(sample) }] : [],
      ...(typeof prompt === "string" && { prompt }),
      params,
      createdAt: isoOrUndefined(payload.timestamp) ?? receivedAt.toISOString(),
      ...(reason !== undefined && { error: reason }),
    };
  },
  authentication: [hmacSignature({ header: "x-bfl-signature", prefix: "sha256=" })],
  // The API answers the task as its webhook carries it (ResultResponse). `Task not found` is the
  // API not knowing the id, as a 404 would say: read again later, never an ending.
  async fetchGeneration(id, api) {
    const answer = (await getJson(api, `/v1/get_result?id=${encodeURIComponent(id)}`, api.headers)) as BflPayload;
    if (typeof answer === "object" && answer !== null && answer.status === "Task not found") {
      throw new ProviderApiError(`the API does not know task ${id} (Task not found)`, 404);
    }
    return answer;
  },
  apiBaseUrl: "https://api.bfl.ai",
  credential: { option: "apiKey", header: "x-key" },
  cliEvents: "BFL's status (Ready, Error, Pending, Request Moderated, Content Moderated, ...; quote those with spaces)",
});
