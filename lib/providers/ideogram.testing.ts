import { randomBytes } from "node:crypto";
import type { IdeogramPayload } from "./ideogram";
import { SAMPLE_PROMPTS } from "./job-plan";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** The delivery of Ideogram's webhook page, verbatim. */
export const ideogramExample = {
  generation_id: "xtdZiqPwRxqY1Y7NExFmzB",
  created: "2025-01-23T04:56:07Z",
  data: [
    {
      url: "https://ideogram.ai/api/images/ephemeral/xtdZiqPwRxqY1Y7NExFmzB.png",
      prompt: "A photo of a cat",
      resolution: "2048x2048",
      seed: 12345,
      is_image_safe: true,
    },
  ],
} as const satisfies IdeogramPayload;

/**
 * A valid Ideogram delivery with a fresh generation id: the webhook's (no `status`, one image) by
 * default; with a `status` (`pending`, `failed`), what a read-back of it gives.
 */
export function ideogramDelivery(status?: string, overrides: Partial<IdeogramPayload> = {}): IdeogramPayload {
  const id = overrides.generation_id ?? randomBytes(16).toString("base64url").slice(0, 22);
  const done = status === undefined || status === "completed";
  return {
    generation_id: id,
    created: new Date().toISOString(),
    ...(status !== undefined && { status }),
    data: done
      ? [
          {
            url: `https://ideogram.ai/api/images/ephemeral/${id}.png`,
            prompt: "a lighthouse at dusk, oil painting",
            resolution: "1024x1024",
            seed: 12345,
            is_image_safe: true,
          },
        ]
      : [],
    ...(status === "failed" && { error: "the generation failed" }),
    ...overrides,
  };
}

/** Ideogram sends one webhook, when the generation is done; a failed one sends none a receiver can tell from silence. */
function simulate(job: SimulationContext): SimulationScript<IdeogramPayload> {
  const { random, images: imageCount, imageExtension: extension, outcome } = job;
  const id = random.hex(22);
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://ideogram.ai/api/images/ephemeral/";
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}-${i}.${extension}`, caption: prompt }));
  const failed = outcome === "failed";
  const body: IdeogramPayload = {
    generation_id: id,
    created: job.startAt.toISOString(),
    // Ideogram documents no failure webhook: a failed job is played as the read-back's answer.
    ...(failed && { status: "failed", error: "the generation failed" }),
    data: failed
      ? []
      : images.map((image) => ({
          url: new URL(image.path, base).href,
          prompt,
          resolution: "1024x1024",
          seed: random.int(1, 99999),
          is_image_safe: true,
        })),
  };
  return { id, caption: prompt, images, deliveries: [{ delayMs: random.int(3000, 8000), event: failed ? "failed" : "completed", body }] };
}

/** Ideogram's testing hooks: `status` names the event (absent in the webhook, which is `completed`); the generation id is signed as `X-Ideogram-Webhook-Generation-Id`. @internal */
export const ideogramTesting = {
  eventField: "status",
  example: ({ status, ...rest }) => ideogramDelivery(status, rest),
  simulate,
  signedHeaders: (payload) => ({ "x-ideogram-webhook-generation-id": payload.generation_id }),
} satisfies ProviderTesting<IdeogramPayload>;
