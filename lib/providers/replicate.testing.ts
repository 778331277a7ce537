import { randomBytes } from "node:crypto";
import { progressSteps, SAMPLE_PROMPTS } from "./job-plan";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";
import type { ReplicatePayload } from "./replicate";

/** The unfinished prediction of Replicate's own webhook page. */
export const replicateExample = {
  id: "ufawqhfynnddngldkgtslldrkq",
  version: "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa",
  created_at: "2022-04-26T22:13:06.224088Z",
  started_at: null,
  completed_at: null,
  status: "starting",
  input: { text: "Alice" },
  output: null,
  error: null,
  logs: null,
  metrics: {},
} as const satisfies ReplicatePayload;

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/**
 * A valid Replicate prediction in the given status (default `succeeded`), with a fresh id; a
 * succeeded one carries four image URLs in `output`, a failed one its `error`.
 */
export function replicateDelivery(status: string = "succeeded", overrides: Partial<ReplicatePayload> = {}): ReplicatePayload {
  const id = overrides.id ?? hex(13);
  const created = new Date();
  const done = ["succeeded", "failed", "canceled"].includes(status);
  return {
    id,
    model: "black-forest-labs/flux-schnell",
    version: hex(32),
    status,
    input: { prompt: "a lighthouse at dusk, oil painting", num_outputs: 4 },
    output: status === "succeeded" ? Array.from({ length: 4 }, (_, i) => `https://replicate.delivery/example/${id}/out-${i}.webp`) : null,
    error: status === "failed" ? "CUDA out of memory" : null,
    logs: status === "starting" ? null : "Using seed: 42\n",
    created_at: created.toISOString(),
    started_at: status === "starting" ? null : created.toISOString(),
    completed_at: done ? new Date(created.getTime() + 1500).toISOString() : null,
    urls: { get: `https://api.replicate.com/v1/predictions/${id}`, cancel: `https://api.replicate.com/v1/predictions/${id}/cancel` },
    metrics: done ? { predict_time: 1.5 } : {},
    ...overrides,
  };
}

/**
 * `starting`, `processing`, `processing` again each time an image joins the output, then
 * `succeeded` (or `failed` partway, its output gone with it): the prediction object each time,
 * each delivery under a `webhookId` of its own.
 */
function simulate(job: SimulationContext): SimulationScript<ReplicatePayload> {
  const { random, images: imageCount, imageExtension: extension, outcome } = job;
  const steps = progressSteps(
    job,
    { created: "starting", active: "processing", progress: "processing", completed: "succeeded", failed: "failed" },
    { failedKeepsImages: false },
  );
  const id = random.hex(26);
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://replicate.delivery/simulated/";
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}/out-${i}.${extension}`, caption: prompt }));
  const version = random.hex(64);
  const seed = random.int(1, 99999);
  const startAt = job.startAt.getTime();
  const createdAt = job.startAt.toISOString();
  let at = startAt;
  const deliveries = steps.map(({ delayMs, event, delivered }, index) => {
    at += delayMs;
    const done = index === steps.length - 1;
    const body: ReplicatePayload = {
      id,
      model: "black-forest-labs/flux-schnell",
      version,
      status: event,
      input: { prompt, num_outputs: imageCount, output_format: extension },
      output: delivered > 0 ? images.slice(0, delivered).map((image) => new URL(image.path, base).href) : null,
      error: done && outcome === "failed" ? "the model ran out of GPU memory" : null,
      logs:
        event === "starting"
          ? null
          : `Using seed: ${seed}\n${images
              .slice(0, delivered)
              .map((_, i) => `image ${i + 1} done\n`)
              .join("")}`,
      created_at: createdAt,
      started_at: event === "starting" ? null : new Date(startAt + steps[1]!.delayMs).toISOString(),
      completed_at: done ? new Date(at).toISOString() : null,
      urls: { get: `https://api.replicate.com/v1/predictions/${id}`, cancel: `https://api.replicate.com/v1/predictions/${id}/cancel` },
      metrics: done ? { predict_time: (at - startAt) / 1000 } : {},
    };
    return { delayMs, event, body, webhookId: `msg_${random.hex(24)}` };
  });
  return { id, caption: prompt, images, deliveries };
}

/** Replicate's testing hooks: the prediction's `status` names the event. @internal */
export const replicateTesting = {
  eventField: "status",
  example: ({ status, ...rest }) => replicateDelivery(status, rest),
  simulate,
} satisfies ProviderTesting<ReplicatePayload>;
