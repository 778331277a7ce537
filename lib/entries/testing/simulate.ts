import { setTimeout as sleep } from "node:timers/promises";
import type { ProviderName, ProviderPayloads } from "../../providers/index";
import type { Provider } from "../../providers/provider";
import type { SimulatedImage, SimulatedOutcome } from "../../providers/provider-testing";
import { providerTesting, simulatedProviders, type TestedProvider } from "./provider-hooks";
import { Dice } from "./random";
import { sendDelivery, type SentResponse } from "./send";

export { simulatedProviders };
export type { SimulatedImage, SimulatedOutcome };

/** A provider `simulateJob` can play by name. */
export type SimulatedProvider = ProviderName;

/** The body type of a provider's deliveries, by name: a built-in's payload, `unknown` for another. */
type PayloadOf<P extends string> = P extends ProviderName ? ProviderPayloads[P] : unknown;

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

/** One webhook delivery of a simulated job, as the provider would send it. */
export interface SimulatedDelivery<P extends string = SimulatedProvider, Payload = PayloadOf<P>> {
  /** How long the provider waits after the previous delivery before sending this one. */
  delayMs: number;
  /** The value of the provider's event field: crazyhorse's `state`, all-images' `type` or Replicate's `status`. */
  event: string;
  body: Payload;
  /** A second sending of the delivery before it, byte for byte: the receiver must dedupe it. */
  retry: boolean;
  /**
   * The Standard Webhooks `webhook-id` that a signing provider (Replicate) sends this delivery
   * under; a retry keeps its original's. `playJob` signs with it when given a `signingSecret`.
   */
  webhookId?: string;
}

/** A generation job as a provider runs it: its images and the deliveries it sends, in order. */
export interface SimulatedJob<P extends string = SimulatedProvider, Payload = PayloadOf<P>> {
  provider: P;
  /** The generation's id: crazyhorse's `code`, all-images' `data.id`, Replicate's prediction `id`. */
  id: string;
  caption: string;
  outcome: SimulatedOutcome;
  /** Every image the job makes, including those a failed job never delivers. */
  images: SimulatedImage[];
  deliveries: SimulatedDelivery<P, Payload>[];
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
 * A provider of your own: the deliveries its `testing.simulate` hook plays (see `defineProvider`).
 */
export function simulateJob<P extends SimulatedProvider>(provider: P, options?: SimulateJobOptions): SimulatedJob<P>;
export function simulateJob<Name extends string, Payload>(
  provider: Provider<Name, Payload, Record<string, Payload>>,
  options?: SimulateJobOptions,
): SimulatedJob<Name, Payload>;
export function simulateJob(provider: TestedProvider, options: SimulateJobOptions = {}): SimulatedJob<string, unknown> {
  const { name, testing } = providerTesting(provider, "simulateJob", "simulate");
  const imageCount = options.images ?? 4;
  if (!Number.isInteger(imageCount) || imageCount < 1 || imageCount > 16) {
    throw new RangeError(`images must be a whole number from 1 to 16, not ${imageCount}`);
  }
  const dice = new Dice(options.seed ?? Math.floor(Math.random() * 2 ** 32));
  // Drawn whether or not the options fix them, so a seed gives the same ids either way.
  const randomOutcome: SimulatedOutcome = dice.next() < 0.2 ? "failed" : "completed";
  const randomRetry = dice.next() < 1 / 3;
  const outcome = options.outcome ?? randomOutcome;
  const retry = options.retry ?? randomRetry;
  const script = testing.simulate!({
    random: dice,
    images: imageCount,
    outcome,
    ...(options.prompt !== undefined && { prompt: options.prompt }),
    imageExtension: options.imageExtension ?? "png",
    ...(options.imageBaseUrl !== undefined && { imageBaseUrl: options.imageBaseUrl }),
    startAt: options.startAt ?? new Date(),
  });
  const deliveries = script.deliveries.map(({ delayMs, event, body, webhookId }): SimulatedDelivery<string, unknown> => ({
    delayMs,
    event,
    body,
    retry: false,
    ...(webhookId !== undefined && { webhookId }),
  }));
  const job: SimulatedJob<string, unknown> = {
    provider: name,
    id: script.id,
    caption: script.caption,
    outcome,
    images: script.images,
    deliveries,
  };

  if (retry) {
    // The provider missed an answer (a timeout, a dropped connection) and sends the same bytes again.
    const at = dice.int(0, deliveries.length - 1);
    const original = deliveries[at] as SimulatedDelivery<string, unknown>;
    // The same bytes under the same webhook-id: a retry, not a new message.
    deliveries.splice(at + 1, 0, { ...original, delayMs: dice.int(700, 1500), body: structuredClone(original.body), retry: true });
  }
  return job;
}

/** Where and how `playJob` sends a simulated job's deliveries. */
export interface PlayJobOptions<P extends string = SimulatedProvider, Payload = PayloadOf<P>> {
  /** The receiver's URL for this provider, e.g. `http://localhost:3000/webhooks/crazyhorse`. */
  url: string;
  /** Sent as `X-Webhook-Token`, as `?token=` with `tokenIn: "query"`, as `Authorization: Bearer` with `"bearer"`. */
  secret?: string;
  tokenIn?: "header" | "query" | "bearer";
  /** The `whsec_…` secret that a signing provider's deliveries (Replicate's) are signed with, under their `webhookId`. */
  signingSecret?: string | readonly string[];
  /** Headers made from each delivery's exact bytes, for a provider that signs another way (Black Forest Labs: `bflSigner(secret)`; fal.ai: `(body) => signFalDelivery(body, { privateKey, userId })`). */
  sign?: (rawBody: string | Uint8Array) => Record<string, string>;
  /** Multiplies the job's delays: 1 is the provider's pace, 0 sends everything at once. Default 1. */
  timeScale?: number;
  /** Stops the job between deliveries (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  /** Called after each answer, e.g. to print it. */
  onDelivery?: (delivery: SimulatedDelivery<P, Payload>, response: SentResponse) => void;
}

/** One delivery `playJob` sent, and the receiver's answer. */
export interface PlayedDelivery<P extends string = SimulatedProvider, Payload = PayloadOf<P>> {
  delivery: SimulatedDelivery<P, Payload>;
  response: SentResponse;
}

/**
 * Sends a simulated job's deliveries over HTTP at their pace. Stops at the first answer that is
 * not a 2xx, as a receiver that refuses one delivery will refuse the rest for the same reason.
 */
export async function playJob<P extends string, Payload>(
  job: SimulatedJob<P, Payload>,
  options: PlayJobOptions<P, Payload>,
): Promise<PlayedDelivery<P, Payload>[]> {
  const { url, secret, tokenIn, signingSecret, sign, timeScale = 1, signal, onDelivery } = options;
  if (!(timeScale >= 0)) throw new RangeError(`timeScale must be 0 or more, not ${timeScale}`);
  const played: PlayedDelivery<P, Payload>[] = [];
  for (const delivery of job.deliveries) {
    const wait = delivery.delayMs * timeScale;
    if (wait > 0) await sleep(wait, undefined, signal ? { signal } : {});
    signal?.throwIfAborted();
    const response = await sendDelivery(url, {
      body: delivery.body,
      ...(secret !== undefined && { secret }),
      ...(tokenIn && { tokenIn }),
      ...(sign && { sign }),
      ...(signingSecret !== undefined &&
        delivery.webhookId !== undefined && { signature: { secret: signingSecret, id: delivery.webhookId } }),
    });
    played.push({ delivery, response });
    onDelivery?.(delivery, response);
    if (response.status < 200 || response.status > 299) break;
  }
  return played;
}
