import { randomUUID } from "node:crypto";
import type { FalPayload } from "./fal";
import { imagesMade, SAMPLE_PROMPTS } from "./job-plan";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** The `OK` delivery of fal.ai's webhook page, verbatim. */
export const falExample = {
  request_id: "123e4567-e89b-12d3-a456-426614174000",
  gateway_request_id: "123e4567-e89b-12d3-a456-426614174000",
  status: "OK",
  payload: {
    images: [
      {
        url: "https://url.to/image.png",
        content_type: "image/png",
        file_name: "image.png",
        file_size: 1824075,
        width: 1024,
        height: 1024,
      },
    ],
    seed: 196619188014358660,
  },
} as const satisfies FalPayload;

/**
 * A valid fal.ai delivery in the given status (default `OK`), with a fresh request id: an `OK` one
 * carries an image, an `ERROR` one fal's error and the model's detail.
 */
export function falDelivery(status: string = "OK", overrides: Partial<FalPayload> = {}): FalPayload {
  const id = overrides.request_id ?? randomUUID();
  const ok = status.toUpperCase() === "OK";
  return {
    request_id: id,
    gateway_request_id: id,
    status,
    payload: ok
      ? {
          images: [
            {
              url: `https://v3.fal.media/files/example/${id}.png`,
              content_type: "image/png",
              file_name: `${id}.png`,
              file_size: 1824075,
              width: 1024,
              height: 1024,
            },
          ],
          seed: 196619188,
          prompt: "a lighthouse at dusk, oil painting",
        }
      : { detail: [{ loc: ["body", "prompt"], msg: "field required", type: "value_error.missing" }] },
    ...(!ok && { error: "Invalid status code: 422" }),
    ...overrides,
  };
}

/** fal.ai sends one webhook, when the request is done: `OK` with every image, or `ERROR` with none. */
function simulate(job: SimulationContext): SimulationScript<FalPayload> {
  const { random, images: imageCount, imageExtension: extension, outcome } = job;
  const id = [8, 4, 4, 4, 12].map((n) => random.hex(n)).join("-");
  const prompt = job.prompt ?? random.pick(SAMPLE_PROMPTS);
  const base = job.imageBaseUrl ?? "https://v3.fal.media/files/simulated/";
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}/image-${i}.${extension}`, caption: prompt }));
  imagesMade(random, imageCount, outcome);
  const failed = outcome === "failed";
  const body: FalPayload = {
    request_id: id,
    gateway_request_id: id,
    status: failed ? "ERROR" : "OK",
    payload: failed
      ? { detail: "the model ran out of GPU memory" }
      : {
          images: images.map((image) => ({
            url: new URL(image.path, base).href,
            content_type: `image/${extension === "jpg" ? "jpeg" : extension}`,
            file_name: image.path.split("/").pop() as string,
            width: 1024,
            height: 1024,
          })),
          seed: random.int(1, 2 ** 31),
          prompt,
        },
    ...(failed && { error: "Invalid status code: 500" }),
  };
  return { id, caption: prompt, images, deliveries: [{ delayMs: random.int(2000, 6000), event: body.status, body }] };
}

/** fal.ai's testing hooks: `status` names the event; the request id is signed as `X-Fal-Webhook-Request-Id`. @internal */
export const falTesting = {
  eventField: "status",
  example: ({ status, ...rest }) => falDelivery(status, rest),
  simulate,
  signedHeaders: (payload) => ({ "x-fal-webhook-request-id": payload.request_id }),
} satisfies ProviderTesting<FalPayload>;
