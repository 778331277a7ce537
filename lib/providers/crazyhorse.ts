import type { FromSchema } from "json-schema-to-ts";
import { defineProvider } from "./define-provider";
import { copyRecord, failureReason, statusMap, type Provider } from "./provider";

/** Matches a word whatever its case; JSON Schema patterns take no flags. */
function anyCase(...words: string[]): string {
  const letters = (word: string) =>
    [...word].map((c) => (c.toLowerCase() === c.toUpperCase() ? c : `[${c.toLowerCase()}${c.toUpperCase()}]`)).join("");
  return `^(?:${words.map(letters).join("|")})$`;
}

const STATES = {
  queued: ["WAITING", "PENDING", "QUEUED"],
  processing: ["PROCESSING", "RUNNING", "ACTIVE"],
  progress: [],
  completed: ["DONE", "COMPLETED", "SUCCESS"],
  failed: ["FAILED", "ERROR"],
} as const;

/**
 * A crazyhorse.ai delivery: one flat object (PROVIDERS.md). Only `state` and `code` are required;
 * a completed job must carry its `generateImageUrls`, which is what lets `crazyhorse.done`
 * listeners rely on them.
 */
export const crazyhorseSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "urn:imagegen-webhooks:schema:crazyhorse",
  title: "crazyhorse.ai webhook delivery",
  type: "object",
  required: ["state", "code"],
  properties: {
    state: { type: "string", minLength: 1, description: "Job state, e.g. WAITING or DONE; others are expected." },
    code: { type: "string", minLength: 1, description: "The job's id." },
    image: { type: "string", description: "The source image, a path relative to the provider's storage." },
    generateImageUrls: {
      type: "array",
      items: { type: "string" },
      description: "The generated images, paths relative to the provider's storage.",
    },
    params: {
      type: "object",
      description: "The request's parameters, echoed back. Unknown keys are allowed.",
      properties: {
        hair: { type: "string" },
        pose: { type: "string" },
        body: { type: "string" },
        chest: { type: "string" },
        clothes: { type: "string" },
        background: { type: "string" },
        number: { type: "number" },
        loraId: { type: "string" },
        debug: { type: "boolean" },
        girlId: { type: "string" },
      },
    },
    createdAt: { type: "string", format: "date-time" },
  },
  if: { type: "object", required: ["state"], properties: { state: { type: "string", pattern: anyCase(...STATES.completed) } } },
  then: { required: ["generateImageUrls"] },
} as const;

/** A crazyhorse.ai delivery body, typed from `crazyhorseSchema`. */
export type CrazyhorsePayload = FromSchema<typeof crazyhorseSchema>;
/** A completed job: the schema requires its images. */
export type CrazyhorseCompletedPayload = CrazyhorsePayload & Required<Pick<CrazyhorsePayload, "generateImageUrls">>;

type Lower<T extends readonly string[]> = Lowercase<T[number]>;
type CompletedState = Lower<typeof STATES.completed>;
type KnownState = { [S in keyof typeof STATES]: Lower<(typeof STATES)[S]> }[keyof typeof STATES];

export type CrazyhorseEvents = {
  [S in KnownState]: S extends CompletedState ? CrazyhorseCompletedPayload : CrazyhorsePayload;
};

const toStatus = statusMap(STATES, { ignoreCase: true });
const knownEvents = Object.values(STATES).flatMap((states) => states.map((s) => s.toLowerCase())) as KnownState[];

// The events of a completed state carry their images (the schema requires them), which the
// definition's one payload type cannot say: the provider is typed with its events here.
export const crazyhorse = defineProvider({
  name: "crazyhorse",
  schema: crazyhorseSchema,
  knownEvents,
  eventName: (payload) => payload.state.toLowerCase(),
  // The same job reports each state once; a repeat of a state is a retry.
  idempotencyKey: (payload) => `${payload.code}:${payload.state.toLowerCase()}`,
  normalize(payload, { resolveImageUrl, receivedAt }) {
    // The page documents no failure field; a top-level `error` is read where one is sent.
    const error = failureReason((payload as { error?: unknown }).error);
    return {
      id: payload.code,
      status: toStatus(payload.state),
      images: (payload.generateImageUrls ?? []).map((path) => ({ url: resolveImageUrl(path) })),
      ...(payload.image !== undefined && { sourceImageUrl: resolveImageUrl(payload.image) }),
      params: payload.params ? copyRecord(payload.params) : {},
      createdAt: payload.createdAt ?? receivedAt.toISOString(),
      ...(error !== undefined && { error }),
    };
  },
  // No signature scheme is documented: a token the receiver chose proves the sender; a relay may sign.
  authentication: ["token", "signature"],
  // The provider's page documents this exact answer.
  answer: { status: 200, headers: { "content-type": "text/plain; charset=utf-8" }, body: "success" },
  withoutApi: "crazyhorse.ai documents its webhook only",
  cliEvents: "crazyhorse's state (WAITING, PROCESSING, DONE, FAILED, ...)",
}) as Provider<"crazyhorse", CrazyhorsePayload, CrazyhorseEvents>;
