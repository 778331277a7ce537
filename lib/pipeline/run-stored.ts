import type { DeliveryRun, StoredDelivery } from "../inbox/inbox";
import type { AnyWebhookEvent } from "../events";
import { printable } from "../printable";
import { elapsedMs } from "./delivery";
import { buildEvent } from "./event";
import { emitWithFailures, imagesToKeep } from "./keep-images";
import type { ImageFailed } from "../events";
import { ListenerFailure, toHandlerError } from "./listeners";
import type { Receiver } from "./receiver";
import { reportError } from "./report";
import { trackGeneration } from "./track";

/** The event of a stored delivery, as its listeners receive it on this run. */
export function storedEvent(receiver: Receiver, stored: StoredDelivery, run: Pick<DeliveryRun, "attempt" | "replayed">): AnyWebhookEvent {
  const provider = receiver.options.providers.get(stored.provider);
  if (!provider) {
    throw new Error(
      `imagegen-webhooks: a stored delivery of provider "${stored.provider}", which this receiver does not configure: configure it in the worker's createWebhooks() too`,
    );
  }
  return buildEvent(provider, stored, stored.payload, new Date(stored.receivedAt), { ...run, origin: stored.origin ?? "webhook" });
}

/**
 * The worker half of the pipeline: step 8 for a delivery the edge stored. A listener that fails
 * is reported through `error`, and the run rejects with its error, so that the inbox retries it.
 */
export async function runStored(receiver: Receiver, stored: StoredDelivery, run: DeliveryRun): Promise<void> {
  const { emitter, options } = receiver;
  const startedAt = performance.now();
  const event = storedEvent(receiver, stored, run);
  const line = { provider: event.provider, deliveryId: event.id, event: event.name, attempt: run.attempt, replayed: run.replayed };
  let moved: boolean;
  try {
    ({ moved } = await trackGeneration(receiver, event, stored.key));
  } catch (err) {
    // Not the listeners' fault: no `error` event; the attempt fails and the inbox retries it.
    options.logger.warn(
      { ...line, err },
      `imagegen-webhooks: the generation store failed for ${printable(event.name)}; the delivery will be retried`,
    );
    throw err;
  }
  const failures = await keepStored(receiver, event, moved, run, line);
  try {
    await emitWithFailures(emitter, event, moved, failures, receiver.telemetry);
  } catch (failure) {
    reportError(emitter, options.logger, toHandlerError(failure, event));
    options.logger.warn(
      { ...line, outcome: "failed", durationMs: elapsedMs(startedAt) },
      `imagegen-webhooks: ${printable(event.name)} failed on attempt ${run.attempt}`,
    );
    const cause = failure instanceof ListenerFailure ? failure.cause : failure;
    throw cause instanceof Error ? cause : new Error(String(cause));
  }
  options.logger.info(
    { ...line, outcome: "handled", durationMs: elapsedMs(startedAt) },
    `imagegen-webhooks: ${printable(event.name)} handled`,
  );
}

/**
 * The generation's images, kept before its events fire. A failure a later attempt may not meet
 * (timeout, 5xx, network, the store) fails the attempt, for the inbox's backoff, until the last
 * one; then, like a permanent failure (404, not an image), it is reported as `image.failed`.
 */
async function keepStored(
  receiver: Receiver,
  event: AnyWebhookEvent,
  moved: boolean,
  run: DeliveryRun,
  line: Record<string, unknown>,
): Promise<ImageFailed[]> {
  const keeper = imagesToKeep(receiver.options.keepImages, event, moved);
  if (!keeper) return [];
  try {
    return await keeper.keep(event, !run.lastAttempt);
  } catch (err) {
    // Not the listeners' fault: no `error` event; the attempt fails and the inbox retries it.
    receiver.options.logger.warn(
      { ...line, err },
      `imagegen-webhooks: an image of ${printable(event.name)} could not be kept yet; the delivery will be retried`,
    );
    throw err;
  }
}
