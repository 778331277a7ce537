import { randomBytes } from "node:crypto";
import { progressSteps, SAMPLE_PROMPTS } from "./job-plan";
import { ALL_IMAGES_STATUS, type AllImagesPayload } from "./all-images";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** all-images.ai's documented shape, with values filled in. */
export const allImagesExample = {
  id: "evt_01HF2Y7Q4J3K",
  api_version: 1,
  created: 1698674434,
  type: "print.completed",
  data: {
    id: "gen_6540a1b2c3",
    name: "lighthouse at dusk",
    prompt: "a lighthouse at dusk, oil painting",
    status: 3,
    params: [{ name: "sujetMode", value: "landscape" }],
    images: [{ id: "img_1", url: "https://example.invalid/img_1.png", validate: true, free: false, titles: {} }],
    nbImages: 4,
    tags: ["demo"],
    metaData: {},
    createdAt: "2023-10-30T14:10:34.002Z",
  },
} as const satisfies AllImagesPayload;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/**
 * A valid all-images delivery of the given `type` (default `print.completed`), with a fresh
 * envelope `id` (the idempotency key) and generation id unless given.
 */
export function allImagesDelivery(
  type: string = "print.completed",
  overrides: Partial<Omit<AllImagesPayload, "data">> & { data?: Partial<AllImagesPayload["data"]> } = {},
): AllImagesPayload {
  const { data, ...envelope } = overrides;
  const example = structuredClone(allImagesExample) as unknown as AllImagesPayload;
  const generationId = data?.id ?? `gen_${hex(6)}`;
  const images = type === "print.completed" ? 4 : type === "print.progress" ? 1 : 0;
  return {
    ...example,
    id: `evt_${hex(8)}`,
    created: Math.floor(Date.now() / 1000),
    type,
    ...envelope,
    data: {
      ...example.data,
      id: generationId,
      status: ALL_IMAGES_STATUS[type] ?? 1,
      images: Array.from({ length: images }, (_, i) => ({
        id: `img_${i + 1}`,
        url: `https://example.invalid/${generationId}/${i + 1}.png`,
        validate: true,
        free: false,
        titles: {},
      })),
      createdAt: new Date().toISOString(),
      ...data,
    },
  };
}

/** `print.created`, `print.active`, one `print.progress` per image, then `print.completed` (or `print.failed` partway). */
function simulate(job: SimulationContext): SimulationScript<AllImagesPayload> {
  const { random, images: imageCount, imageExtension: extension } = job;
  const steps = progressSteps(job, {
    created: "print.created",
    active: "print.active",
    progress: "print.progress",
    completed: "print.completed",
    failed: "print.failed",
  });
  const id = `gen_${random.hex(10)}`;
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://cdn.all-images.example/";
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}/img_${i + 1}.${extension}`, caption: prompt }));
  const createdAt = job.startAt.toISOString();
  let at = job.startAt.getTime();
  const deliveries = steps.map(({ delayMs, event, delivered }) => {
    at += delayMs;
    const body: AllImagesPayload = {
      id: `evt_${random.hex(16)}`,
      api_version: 1,
      created: Math.floor(at / 1000),
      type: event,
      data: {
        id,
        name: prompt.split(",")[0],
        prompt,
        status: ALL_IMAGES_STATUS[event],
        params: [{ name: "sujetMode", value: random.pick(["landscape", "portrait", "square"]) }],
        images: images.slice(0, delivered).map((image, i) => ({
          id: `img_${i + 1}`,
          url: new URL(image.path, base).href,
          validate: event === "print.completed",
          free: false,
          titles: {},
        })),
        nbImages: imageCount,
        tags: ["simulated"],
        metaData: {},
        createdAt,
      },
    };
    return { delayMs, event, body };
  });
  return { id, caption: prompt, images, deliveries };
}

/** all-images' testing hooks: the envelope's `type` names the event. @internal */
export const allImagesTesting = {
  eventField: "type",
  example: ({ type, ...rest }) => allImagesDelivery(type, rest),
  simulate,
} satisfies ProviderTesting<AllImagesPayload>;
