import { randomUUID } from "node:crypto";
import { SAMPLE_PROMPTS } from "./job-plan";
import { LEONARDO_COMPLETE, type LeonardoGeneration, type LeonardoPayload } from "./leonardo";
import type { ProviderTesting, SimulationContext, SimulationScript, SimulationRandom } from "./provider-testing";

/** The fields of Leonardo's documented callback that matter, with its own example's values. */
export const leonardoExample = {
  type: "image_generation.complete",
  object: "generation",
  timestamp: 1699490546932,
  api_version: "v1",
  data: {
    object: {
      id: "5a4a1d4e-2b7c-4a8e-9d43-6f1b0c2e7a11",
      createdAt: "2023-11-09T00:42:22.707Z",
      status: "COMPLETE",
      modelId: "6bef9f1b-29cb-40c7-b9df-32b51c1f67d3",
      prompt: "An oil painting of a cat",
      negativePrompt: "",
      imageHeight: 512,
      imageWidth: 512,
      seed: "905778432",
      images: [
        {
          id: "0c1b5a1e-3d2f-4b6a-8e9d-7f1a2b3c4d5e",
          url: "https://cdn.leonardo.ai/users/ef8b8386-94f7-48d1-b10e-e87fd4dee6e6/generations/5a4a1d4e-2b7c-4a8e-9d43-6f1b0c2e7a11/Leonardo_Creative_An_oil_painting_of_a_cat_0.jpg",
          nsfw: false,
        },
      ],
    },
  },
} as const satisfies LeonardoPayload;

/**
 * A valid Leonardo callback whose generation ended in `status` (default `COMPLETE`), with a fresh
 * generation id unless given; a complete one carries four images, a failed one none.
 */
export function leonardoDelivery(
  status: string = "COMPLETE",
  overrides: Partial<Omit<LeonardoPayload, "data">> & { data?: { object?: Partial<LeonardoGeneration> } } = {},
): LeonardoPayload {
  const { data, ...envelope } = overrides;
  const id = data?.object?.id ?? randomUUID();
  const complete = status.toUpperCase() === "COMPLETE";
  return {
    type: LEONARDO_COMPLETE,
    object: "generation",
    timestamp: Date.now(),
    api_version: "v1",
    ...envelope,
    data: {
      object: {
        ...structuredClone(leonardoExample.data.object),
        id,
        status,
        createdAt: new Date().toISOString(),
        images: complete
          ? Array.from({ length: 4 }, (_, i) => ({
              id: randomUUID(),
              url: `https://cdn.leonardo.ai/users/example/generations/${id}/Leonardo_Creative_${i}.jpg`,
              nsfw: false,
            }))
          : [],
        ...data?.object,
      },
    },
  };
}

const uuid = (random: SimulationRandom) => {
  const hex = random.hex(32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
};

/**
 * Leonardo sends one callback, when the generation ends: a few seconds per image after the
 * request, `COMPLETE` with every image, or `FAILED` with none.
 */
function simulate(job: SimulationContext): SimulationScript<LeonardoPayload> {
  const { random, images: imageCount, imageExtension: extension, outcome } = job;
  const id = uuid(random);
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://cdn.leonardo.ai/";
  const images = Array.from({ length: imageCount }, (_, i) => ({
    path: `users/simulated/generations/${id}/Leonardo_Phoenix_${i}.${extension}`,
    caption: prompt,
  }));
  let delayMs = random.int(800, 1500);
  for (let i = 0; i < imageCount; i++) delayMs += random.int(600, 1300);
  const failed = outcome === "failed";
  const body: LeonardoPayload = {
    type: LEONARDO_COMPLETE,
    object: "generation",
    timestamp: job.startAt.getTime() + delayMs,
    api_version: "v1",
    data: {
      object: {
        id,
        createdAt: job.startAt.toISOString(),
        status: failed ? "FAILED" : "COMPLETE",
        modelId: "de7d3faf-762f-48e0-b3b7-9d0ac3a3fcf3",
        prompt,
        negativePrompt: "",
        imageWidth: 1024,
        imageHeight: 1024,
        seed: String(random.int(1, 999999999)),
        images: failed ? [] : images.map((image) => ({ id: uuid(random), url: new URL(image.path, base).href, nsfw: false })),
      },
    },
  };
  return { id, caption: prompt, images, deliveries: [{ delayMs, event: LEONARDO_COMPLETE, body }] };
}

/** Leonardo's testing hooks: the envelope's `type` names the event, the generation's `status` how it ended. @internal */
export const leonardoTesting = {
  eventField: "type",
  // Leonardo sends its webhook key as `Authorization: Bearer <key>`.
  tokenIn: "bearer",
  example: ({ data, ...rest }) => leonardoDelivery(data?.object?.status ?? "COMPLETE", { ...rest, ...(data && { data }) }),
  simulate,
} satisfies ProviderTesting<LeonardoPayload>;
