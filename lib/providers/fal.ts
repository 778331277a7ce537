import type { FromSchema } from "json-schema-to-ts";
import { ed25519Jwks, signedLines } from "../signatures/ed25519-jwks";
import { defineProvider } from "./define-provider";
import { failureReason, statusMap } from "./provider";
import { getJson, ProviderApiError, type ProviderApi } from "./provider-api";

/**
 * fal.ai's queue webhook: one delivery when a request is done, `OK` with the model's output in
 * `payload`, or `ERROR` with `error`. Signed with Ed25519 over `request id \n user id \n timestamp \n
 * hex(sha256(body))`, with keys fal publishes as a JWKS and uses for every customer.
 */
export const falSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:fal",
  title: "fal.ai queue webhook delivery",
  type: "object",
  required: ["request_id", "status"],
  properties: {
    request_id: { type: "string", minLength: 1, description: "The queue request's id: the same on every retry of the webhook." },
    gateway_request_id: { type: "string", description: "Differs from request_id when fal retried the request itself." },
    status: { type: "string", minLength: 1, description: "OK or ERROR; others are expected." },
    payload: {
      description: "The model's output, e.g. { images: [{ url, content_type, ... }], seed }; null when it was not valid JSON.",
      anyOf: [
        {
          type: "object",
          properties: {
            images: {
              type: "array",
              items: {
                type: "object",
                properties: {
                  url: { type: "string" },
                  content_type: { type: "string" },
                  file_name: { type: "string" },
                  file_size: { type: "number" },
                  width: { type: "number" },
                  height: { type: "number" },
                },
              },
            },
            seed: { type: "number" },
            prompt: { type: "string" },
          },
        },
        { type: "null" },
      ],
    },
    error: { description: "Why it failed (on ERROR)." },
    payload_error: { description: "Why payload is null: the output was not valid JSON." },
  },
} as const;

/** A fal.ai delivery body, typed from `falSchema`. */
export type FalPayload = FromSchema<typeof falSchema>;

/** fal.ai's published signing keys. */
export const FAL_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json";

/** fal.ai's webhook signature: Ed25519, keys from its JWKS, the account in `X-Fal-Webhook-User-Id`. */
export const falSignature = ed25519Jwks({
  jwksUrl: FAL_JWKS_URL,
  signatureHeader: "x-fal-webhook-signature",
  timestampHeader: "x-fal-webhook-timestamp",
  userIdHeader: "x-fal-webhook-user-id",
  message: signedLines(["x-fal-webhook-request-id", "x-fal-webhook-user-id", "x-fal-webhook-timestamp"]),
});

// OK and ERROR are the webhook's; IN_QUEUE, IN_PROGRESS and COMPLETED are the queue's status endpoint's.
const status = statusMap(
  { queued: ["IN_QUEUE"], processing: ["IN_PROGRESS"], progress: [], completed: ["OK", "COMPLETED"], failed: ["ERROR"] },
  { ignoreCase: true },
);

const IMAGE_URL = /^(?:https?:\/\/|data:image\/)/i;

/**
 * Reads a fal.ai queue request back, as a webhook body: its status, then, once completed, its
 * result. The app (e.g. `fal-ai/flux/dev`) is part of the queue's URL and not in the webhook: only
 * who submitted the request knows it.
 */
export async function fetchFalRequest(app: string | undefined, id: string, api: ProviderApi): Promise<FalPayload> {
  if (typeof app !== "string" || !/^[\w.-]+(?:\/[\w.-]+)+$/.test(app)) {
    throw new ProviderApiError(
      `fal.ai's read-back needs the request's app (e.g. "fal-ai/flux/dev"), which its webhook does not carry: ` +
        `track the generation with generations.track("fal", id, { app })`,
      0,
    );
  }
  const base = `/${app.split("/").map(encodeURIComponent).join("/")}/requests/${encodeURIComponent(id)}`;
  const state = (await getJson(api, `${base}/status`, api.headers)) as { status?: unknown } | null;
  const queueStatus = typeof state === "object" && state !== null ? state.status : undefined;
  if (typeof queueStatus !== "string") throw new ProviderApiError(`the API answered ${base}/status without a status`, 200);
  if (queueStatus !== "COMPLETED") return { request_id: id, status: queueStatus, payload: null };
  const result = await getJson(api, base, api.headers);
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    throw new ProviderApiError(`the API answered ${base} with a result that is not an object`, 200);
  }
  return { request_id: id, status: "OK", payload: result as Record<string, unknown> };
}

export const fal = defineProvider({
  name: "fal",
  schema: falSchema,
  knownEvents: ["ok", "error"],
  eventName: (payload) => payload.status.toLowerCase(),
  // fal retries a webhook under the same request_id; gateway_request_id changes when fal retried
  // the request itself, which is still the one generation.
  idempotencyKey: (payload) => `${payload.request_id}:${payload.status}`,
  normalize(payload, { resolveImageUrl, receivedAt }) {
    const output = payload.payload ?? {};
    const images = (Array.isArray(output.images) ? output.images : [])
      .filter((image): image is { url: string } => typeof image?.url === "string" && IMAGE_URL.test(image.url))
      .map((image) => ({ url: resolveImageUrl(image.url) }));
    const error = failureReason(payload.error) ?? failureReason(payload.payload_error);
    const { images: _images, prompt, ...params } = output as Record<string, unknown>;
    return {
      id: payload.request_id,
      status: status(payload.status),
      images,
      ...(typeof prompt === "string" && { prompt }),
      params,
      createdAt: receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  authentication: [falSignature],
  fetchGeneration: (id, api) => fetchFalRequest(api.app, id, api),
  appForReadBack: `the request's app, its model id (e.g. "fal-ai/flux/dev"), which fal.ai's webhook does not carry`,
  apiBaseUrl: "https://queue.fal.run",
  credential: { option: "apiKey", header: "authorization", prefix: "Key " },
  cliEvents: "fal.ai's status (OK, ERROR)",
});
