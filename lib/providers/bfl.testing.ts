import { randomUUID } from "node:crypto";
import type { BflPayload } from "./bfl";
import { SAMPLE_PROMPTS } from "./job-plan";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** The webhook of BFL's skill files, its elided URL and prompt filled in. */
export const bflExample = {
  id: "gen_abc123xyz",
  status: "Ready",
  result: {
    sample: "https://delivery-eu1.bfl.ai/results/gen_abc123xyz/sample.jpeg",
    prompt: "a lighthouse at dusk, oil painting",
    seed: 1234567890,
  },
  timestamp: "2025-01-15T10:30:00Z",
} as const satisfies BflPayload;

/**
 * A valid BFL webhook in the given status (default `Ready`), with a fresh task id unless given;
 * a `Ready` one carries its `result`, an `Error` one its `error`, the others neither.
 */
export function bflDelivery(status: string = "Ready", overrides: Partial<BflPayload> = {}): BflPayload {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    status,
    ...(status === "Ready" && {
      result: { sample: `https://delivery-eu1.bfl.ai/results/${id}/sample.jpeg`, prompt: bflExample.result.prompt, seed: 42 },
    }),
    ...(status === "Error" && { error: "Internal error during generation" }),
    timestamp: new Date().toISOString(),
    ...overrides,
  };
}

/**
 * BFL sends one webhook, when the task ends: `Ready` with its one image, or `Error` (a failed job
 * may also end `Content Moderated`). A task makes one image; a job of several is one per task, so
 * the simulation plays the first.
 */
function simulate(job: SimulationContext): SimulationScript<BflPayload> {
  const { random, imageExtension: extension, outcome } = job;
  const hex = random.hex(32);
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://delivery-eu1.bfl.ai/";
  const images = [{ path: `results/${id}/sample.${extension}`, caption: prompt }];
  const delayMs = random.int(2000, 6000);
  const at = new Date(job.startAt.getTime() + delayMs).toISOString();
  const body: BflPayload =
    outcome === "failed"
      ? random.next() < 0.5
        ? { id, status: "Error", error: "Internal error during generation", timestamp: at }
        : { id, status: "Content Moderated", message: "the output was flagged by moderation", timestamp: at }
      : {
          id,
          status: "Ready",
          result: { sample: new URL(images[0]!.path, base).href, prompt, seed: random.int(1, 2 ** 31 - 1) },
          timestamp: at,
        };
  return { id, caption: prompt, images, deliveries: [{ delayMs, event: body.status, body }] };
}

/** BFL's testing hooks: the task's `status` names the event. @internal */
export const bflTesting = {
  eventField: "status",
  example: ({ status, ...rest }) => bflDelivery(status, rest),
  simulate,
} satisfies ProviderTesting<BflPayload>;
