import { setTimeout as sleep } from "node:timers/promises";
import { ALL_IMAGES_STATUS, type AllImagesPayload } from "../providers/all-images";
import type { CrazyhorsePayload } from "../providers/crazyhorse";
import type { ProviderPayloads } from "../providers/index";
import type { ReplicatePayload } from "../providers/replicate";
// A cycle with ./index (which re-exports this module) is safe: sendDelivery is only called at run time.
import { sendDelivery, type SentResponse } from "./index";

/** The providers whose jobs `simulateJob` knows how to play. */
export const simulatedProviders = ["crazyhorse", "all-images", "replicate"] as const;
/** A provider `simulateJob` can play. */
export type SimulatedProvider = (typeof simulatedProviders)[number];

/** How a simulated job ends. */
export type SimulatedOutcome = "completed" | "failed";

/** The job `simulateJob` makes; everything left unset is drawn from `seed`. */
export interface SimulateJobOptions {
  /** The same seed gives the same job: ids, prompt, timings and the choices left random below. */
  seed?: number;
  /** How the job ends. Default: `completed` four times in five. */
  outcome?: SimulatedOutcome;
  /** Send one delivery twice, as a provider does when it missed the first answer. Default: one job in three. */
  retry?: boolean;
  /** Images the job generates, 1 to 16. Default 4, what both providers propose. */
  images?: number;
  /** all-images' `data.prompt`, Replicate's `input.prompt`; crazyhorse has no prompt, its `params` describe the image. */
  prompt?: string;
  /** The images' file extension. Default `png`, as in the providers' examples. */
  imageExtension?: string;
  /**
   * all-images and Replicate send absolute image URLs: the storage they are resolved against.
   * crazyhorse sends paths relative to its storage, which the receiver resolves with its own `imageBaseUrl`.
   */
  imageBaseUrl?: string;
  /** When the job starts; the deliveries' timestamps follow it. Default: now. */
  startAt?: Date;
}

/** One image of a simulated job. */
export interface SimulatedImage {
  /** Relative to the provider's storage, e.g. `<user>/<code>/generate-1.png`. */
  path: string;
  /** What a picture of it would show: the prompt, or crazyhorse's parameters. */
  caption: string;
}

/** One webhook delivery of a simulated job, as the provider would send it. */
export interface SimulatedDelivery<P extends SimulatedProvider = SimulatedProvider> {
  /** How long the provider waits after the previous delivery before sending this one. */
  delayMs: number;
  /** crazyhorse's `state`, all-images' `type` or Replicate's `status`. */
  event: string;
  body: ProviderPayloads[P];
  /** A second sending of the delivery before it, byte for byte: the receiver must dedupe it. */
  retry: boolean;
  /**
   * The Standard Webhooks `webhook-id` that a signing provider (Replicate) sends this delivery
   * under; a retry keeps its original's. `playJob` signs with it when given a `signingSecret`.
   */
  webhookId?: string;
}

/** A generation job as a provider runs it: its images and the deliveries it sends, in order. */
export interface SimulatedJob<P extends SimulatedProvider = SimulatedProvider> {
  provider: P;
  /** The generation's id: crazyhorse's `code`, all-images' `data.id`, Replicate's prediction `id`. */
  id: string;
  caption: string;
  outcome: SimulatedOutcome;
  /** Every image the job makes, including those a failed job never delivers. */
  images: SimulatedImage[];
  deliveries: SimulatedDelivery<P>[];
}

const PROMPTS = [
  "a lighthouse at dusk, oil painting",
  "a red fox in fresh snow, watercolor",
  "a neon-lit street in the rain, cinematic",
  "a cabin by a mountain lake at sunrise",
  "an astronaut tending a greenhouse on Mars",
  "a koi pond seen from above, ukiyo-e style",
  "a hot-air balloon over lavender fields",
  "a tiny robot reading a book in a library",
];

const CRAZYHORSE_PARAMS = [
  { hair: "red", clothes: "t-shirt, jean", background: "beach", pose: "standing" },
  { hair: "black", clothes: "leather jacket", background: "city at night", pose: "walking" },
  { hair: "blonde", clothes: "summer dress", background: "garden", pose: "sitting" },
  { hair: "silver", clothes: "raincoat", background: "harbour", pose: "portrait" },
  { hair: "brown", clothes: "hoodie", background: "forest", pose: "looking back" },
];

/** mulberry32: a tiny seeded generator, so that a seed replays a job exactly. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Dice {
  constructor(readonly next: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }
  hex(length: number): string {
    return Array.from({ length }, () => this.int(0, 15).toString(16)).join("");
  }
}

interface Step {
  delayMs: number;
  event: string;
  /** Images delivered so far. */
  delivered: number;
}

/** The provider's pace: a queue wait, then a few seconds per image. */
function plan(provider: SimulatedProvider, dice: Dice, images: number, outcome: SimulatedOutcome): Step[] {
  // A failed job stops partway: after at least one image where there is more than one.
  const made = outcome === "failed" ? dice.int(Math.min(1, images - 1), images - 1) : images;
  if (provider === "crazyhorse") {
    // crazyhorse reports no progress: its images arrive all at once with DONE.
    return [
      { delayMs: 0, event: "WAITING", delivered: 0 },
      { delayMs: dice.int(500, 1200), event: "PROCESSING", delivered: 0 },
      { delayMs: dice.int(1800, 3200), event: outcome === "failed" ? "FAILED" : "DONE", delivered: outcome === "failed" ? 0 : images },
    ];
  }
  // all-images reports progress once per image; Replicate sends its prediction again (still
  // `processing`) each time the output grows.
  const [created, active, progress, completed, failed] =
    provider === "all-images"
      ? ["print.created", "print.active", "print.progress", "print.completed", "print.failed"]
      : ["starting", "processing", "processing", "succeeded", "failed"];
  const steps: Step[] = [
    { delayMs: 0, event: created as string, delivered: 0 },
    { delayMs: dice.int(400, 900), event: active as string, delivered: 0 },
  ];
  for (let i = 1; i <= made; i++) steps.push({ delayMs: dice.int(600, 1300), event: progress as string, delivered: i });
  const last = outcome === "failed" ? (failed as string) : (completed as string);
  // A failed prediction's output is gone with it.
  steps.push({ delayMs: dice.int(300, 700), event: last, delivered: outcome === "failed" && provider === "replicate" ? 0 : made });
  return steps;
}


/**
 * One generation job as its provider would report it: the deliveries in order, each with the
 * delay before it, ready to be sent by `playJob` or inspected in a test. Deterministic for a seed.
 *
 * crazyhorse: `WAITING`, `PROCESSING`, then `DONE` with every image (or `FAILED`).
 * all-images: `print.created`, `print.active`, one `print.progress` per image, then
 * `print.completed` (or `print.failed` partway).
 * Replicate: `starting`, `processing`, `processing` again each time an image joins the output, then
 * `succeeded` (or `failed` partway), each delivery with the `webhookId` it is signed under.
 */
export function simulateJob<P extends SimulatedProvider>(provider: P, options: SimulateJobOptions = {}): SimulatedJob<P> {
  if (!simulatedProviders.includes(provider)) {
    throw new RangeError(`simulateJob plays ${simulatedProviders.join(", ")} jobs, not "${String(provider)}"`);
  }
  const imageCount = options.images ?? 4;
  if (!Number.isInteger(imageCount) || imageCount < 1 || imageCount > 16) {
    throw new RangeError(`images must be a whole number from 1 to 16, not ${imageCount}`);
  }
  const dice = new Dice(seededRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32)));
  // Drawn whether or not the options fix them, so a seed gives the same ids either way.
  const randomOutcome: SimulatedOutcome = dice.next() < 0.2 ? "failed" : "completed";
  const randomRetry = dice.next() < 1 / 3;
  const outcome = options.outcome ?? randomOutcome;
  const retry = options.retry ?? randomRetry;
  const extension = options.imageExtension ?? "png";
  const startAt = (options.startAt ?? new Date()).getTime();
  const steps = plan(provider, dice, imageCount, outcome);

  let job: SimulatedJob;
  if (provider === "crazyhorse") {
    const code = dice.hex(32);
    const user = dice.hex(32);
    const params = { ...dice.pick(CRAZYHORSE_PARAMS), number: imageCount };
    const caption = [`${params.hair} hair`, params.clothes, params.pose, params.background].join(", ");
    const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${user}/${code}/generate-${i + 1}.${extension}`, caption }));
    const createdAt = new Date(startAt).toISOString();
    const deliveries = steps.map(({ delayMs, event, delivered }): SimulatedDelivery<"crazyhorse"> => {
      const body: CrazyhorsePayload = {
        state: event,
        code,
        image: `${user}/${code}.${extension}`,
        ...(delivered > 0 && { generateImageUrls: images.slice(0, delivered).map((image) => image.path) }),
        params,
        createdAt,
      };
      return { delayMs, event, body, retry: false };
    });
    job = { provider: "crazyhorse", id: code, caption, outcome, images, deliveries };
  } else if (provider === "replicate") {
    job = replicateJob(dice, steps, { imageCount, extension, startAt, outcome, prompt: options.prompt, imageBaseUrl: options.imageBaseUrl });
  } else {
    const id = `gen_${dice.hex(10)}`;
    const prompt = options.prompt ?? dice.pick(PROMPTS);
    const base = options.imageBaseUrl ?? "https://cdn.all-images.example/";
    const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${id}/img_${i + 1}.${extension}`, caption: prompt }));
    const createdAt = new Date(startAt).toISOString();
    let at = startAt;
    const deliveries = steps.map(({ delayMs, event, delivered }): SimulatedDelivery<"all-images"> => {
      at += delayMs;
      const body: AllImagesPayload = {
        id: `evt_${dice.hex(16)}`,
        api_version: 1,
        created: Math.floor(at / 1000),
        type: event,
        data: {
          id,
          name: prompt.split(",")[0] as string,
          prompt,
          status: ALL_IMAGES_STATUS[event] as number,
          params: [{ name: "sujetMode", value: dice.pick(["landscape", "portrait", "square"]) }],
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
      return { delayMs, event, body, retry: false };
    });
    job = { provider: "all-images", id, caption: prompt, outcome, images, deliveries };
  }

  if (retry) {
    // The provider missed an answer (a timeout, a dropped connection) and sends the same bytes again.
    const at = dice.int(0, job.deliveries.length - 1);
    const original = job.deliveries[at] as SimulatedDelivery;
    // The same bytes under the same webhook-id: a retry, not a new message.
    job.deliveries.splice(at + 1, 0, { ...original, delayMs: dice.int(700, 1500), body: structuredClone(original.body), retry: true });
  }
  return job as SimulatedJob<P>;
}

/** A Replicate prediction's deliveries: the prediction object each time, its output growing. */
function replicateJob(
  dice: Dice,
  steps: Step[],
  job: { imageCount: number; extension: string; startAt: number; outcome: SimulatedOutcome; prompt: string | undefined; imageBaseUrl: string | undefined },
): SimulatedJob<"replicate"> {
  const id = dice.hex(26);
  const prompt = job.prompt ?? dice.pick(PROMPTS);
  const base = job.imageBaseUrl ?? "https://replicate.delivery/simulated/";
  const images = Array.from({ length: job.imageCount }, (_, i) => ({ path: `${id}/out-${i}.${job.extension}`, caption: prompt }));
  const version = dice.hex(64);
  const seed = dice.int(1, 99999);
  const createdAt = new Date(job.startAt).toISOString();
  let at = job.startAt;
  const deliveries = steps.map(({ delayMs, event, delivered }, index): SimulatedDelivery<"replicate"> => {
    at += delayMs;
    const done = index === steps.length - 1;
    const body: ReplicatePayload = {
      id,
      model: "black-forest-labs/flux-schnell",
      version,
      status: event,
      input: { prompt, num_outputs: job.imageCount, output_format: job.extension },
      output: delivered > 0 ? images.slice(0, delivered).map((image) => new URL(image.path, base).href) : null,
      error: done && job.outcome === "failed" ? "the model ran out of GPU memory" : null,
      logs: event === "starting" ? null : `Using seed: ${seed}\n${images.slice(0, delivered).map((_, i) => `image ${i + 1} done\n`).join("")}`,
      created_at: createdAt,
      started_at: event === "starting" ? null : new Date(job.startAt + steps[1]!.delayMs).toISOString(),
      completed_at: done ? new Date(at).toISOString() : null,
      urls: { get: `https://api.replicate.com/v1/predictions/${id}`, cancel: `https://api.replicate.com/v1/predictions/${id}/cancel` },
      metrics: done ? { predict_time: (at - job.startAt) / 1000 } : {},
    };
    return { delayMs, event, body, retry: false, webhookId: `msg_${dice.hex(24)}` };
  });
  return { provider: "replicate", id, caption: prompt, outcome: job.outcome, images, deliveries };
}

/** Where and how `playJob` sends a simulated job's deliveries. */
export interface PlayJobOptions<P extends SimulatedProvider = SimulatedProvider> {
  /** The receiver's URL for this provider, e.g. `http://localhost:3000/webhooks/crazyhorse`. */
  url: string;
  /** Sent as `X-Webhook-Token`, or as `?token=` with `tokenIn: "query"`. */
  secret?: string;
  tokenIn?: "header" | "query";
  /** The `whsec_…` secret that a signing provider's deliveries (Replicate's) are signed with, under their `webhookId`. */
  signingSecret?: string | readonly string[];
  /** Multiplies the job's delays: 1 is the provider's pace, 0 sends everything at once. Default 1. */
  timeScale?: number;
  /** Stops the job between deliveries (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  /** Called after each answer, e.g. to print it. */
  onDelivery?: (delivery: SimulatedDelivery<P>, response: SentResponse) => void;
}

/** One delivery `playJob` sent, and the receiver's answer. */
export interface PlayedDelivery<P extends SimulatedProvider = SimulatedProvider> {
  delivery: SimulatedDelivery<P>;
  response: SentResponse;
}

/**
 * Sends a simulated job's deliveries over HTTP at their pace. Stops at the first answer that is
 * not a 2xx, as a receiver that refuses one delivery will refuse the rest for the same reason.
 */
export async function playJob<P extends SimulatedProvider>(job: SimulatedJob<P>, options: PlayJobOptions<P>): Promise<PlayedDelivery<P>[]> {
  const { url, secret, tokenIn, signingSecret, timeScale = 1, signal, onDelivery } = options;
  if (!(timeScale >= 0)) throw new RangeError(`timeScale must be 0 or more, not ${timeScale}`);
  const played: PlayedDelivery<P>[] = [];
  for (const delivery of job.deliveries) {
    const wait = delivery.delayMs * timeScale;
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
    signal?.throwIfAborted();
    const response = await sendDelivery(url, {
      body: delivery.body,
      ...(secret !== undefined && { secret }),
      ...(tokenIn && { tokenIn }),
      ...(signingSecret !== undefined && delivery.webhookId !== undefined && { signature: { secret: signingSecret, id: delivery.webhookId } }),
    });
    played.push({ delivery, response });
    onDelivery?.(delivery, response);
    if (response.status < 200 || response.status > 299) break;
  }
  return played;
}
