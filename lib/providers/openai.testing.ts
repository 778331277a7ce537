import { randomBytes } from "node:crypto";
import { SAMPLE_PROMPTS } from "./job-plan";
import type { OpenAIPayload } from "./openai";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** The event of OpenAI's webhook guide, verbatim but for its `object` field, which the API reference adds. */
export const openaiExample = {
  id: "evt_abc123",
  object: "event",
  type: "response.completed",
  created_at: 1719168000,
  data: { id: "resp_abc123" },
} as const satisfies OpenAIPayload;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** A valid OpenAI event of the given type (default `response.completed`), about a fresh response (or batch), with a fresh id. */
export function openaiDelivery(type: string = "response.completed", overrides: Partial<OpenAIPayload> = {}): OpenAIPayload {
  const object = type.startsWith("batch.")
    ? "batch"
    : type.startsWith("fine_tuning.")
      ? "ftjob"
      : type.startsWith("eval.")
        ? "evalrun"
        : "resp";
  return {
    id: `evt_${hex(12)}`,
    object: "event",
    type,
    created_at: Math.floor(Date.now() / 1000),
    data: { id: `${object}_${hex(12)}` },
    ...overrides,
  };
}

/**
 * OpenAI sends one event when a background response ends: `response.completed` (or
 * `response.failed`), under a `webhook-id` that is the event's id. Its images are not in it: a
 * receiver with an `apiKey` reads them back from `GET /v1/responses/{id}` (the example app serves a fake).
 */
function simulate(job: SimulationContext): SimulationScript<OpenAIPayload> {
  const { random, images: imageCount, imageExtension: extension, outcome } = job;
  const id = `resp_${random.hex(24)}`;
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}/ig_${i}.${extension}`, caption: prompt }));
  const delayMs = random.int(4000, 12000);
  const event = outcome === "failed" ? "response.failed" : "response.completed";
  const eventId = `evt_${random.hex(24)}`;
  const body: OpenAIPayload = {
    id: eventId,
    object: "event",
    type: event,
    created_at: Math.floor((job.startAt.getTime() + delayMs) / 1000),
    data: { id },
  };
  return { id, caption: prompt, images, deliveries: [{ delayMs, event, body, webhookId: eventId }] };
}

/** OpenAI's testing hooks: the event's `type` names it. @internal */
export const openaiTesting = {
  eventField: "type",
  example: ({ type, ...rest }) => openaiDelivery(type, rest),
  simulate,
} satisfies ProviderTesting<OpenAIPayload>;
