import type { DeliveryRun, StoredDelivery } from "../inbox/inbox";
import { printable } from "../text/printable";
import { NOTHING_CLAIMED } from "./dedupe";
import { elapsedMs, type Delivery } from "./delivery";
import { dispatch, type Dispatched } from "./dispatch";
import { buildEvent } from "./event";
import { ListenerFailure } from "./listeners";
import type { Receiver } from "./receiver";

/** A stored delivery, as this run of it is handled: its event as its listeners receive it. */
export function storedDelivery(receiver: Receiver, stored: StoredDelivery, run: Pick<DeliveryRun, "attempt" | "replayed">): Delivery {
  const startedAt = performance.now();
  const provider = receiver.options.providers.get(stored.provider);
  if (!provider) {
    throw new Error(
      `imagegen-webhooks: a stored delivery of provider "${stored.provider}", which this receiver does not configure: configure it in the worker's createWebhooks() too`,
    );
  }
  const source = { identity: stored, payload: stored.payload, receivedAt: new Date(stored.receivedAt) };
  const event = buildEvent(provider, { ...source, run: { ...run, origin: stored.origin ?? "webhook" } });
  return { receiver, provider, startedAt, event, key: stored.key, span: undefined };
}

/**
 * The worker half of the pipeline: step 8 for a delivery the edge stored (the inbox stored its key
 * once: nothing to claim). A listener that fails, or the listeners still running at
 * `handlerTimeoutMs`, are reported through `error`, and the run rejects with the error, so that
 * the inbox retries it; so does a store that fails, or an image a later
 * attempt may keep, without `error`: neither is the listeners' fault.
 */
export async function runStored(receiver: Receiver, stored: StoredDelivery, run: DeliveryRun): Promise<void> {
  const delivery = storedDelivery(receiver, stored, run);
  await dispatch(delivery, {
    claim: () => NOTHING_CLAIMED,
    failOpen: false,
    fireStale: true,
    // An image a later attempt may keep fails the attempt, for the inbox's backoff, until the last one.
    retryTransient: !run.lastAttempt,
    // A run past handlerTimeoutMs fails like a throw, so that a listener that never settles cannot hold the worker's slot.
    answerWithinMs: receiver.options.handlerTimeoutMs,
    failPastDeadline: true,
    conclude: (dispatched) => concludeRun(delivery, run, dispatched),
  });
}

/** Logs how the run went; throws what failed it. */
function concludeRun(delivery: Delivery, run: DeliveryRun, dispatched: Dispatched): void {
  const { event } = delivery;
  const { logger } = delivery.receiver.options;
  const line = { provider: event.provider, deliveryId: event.id, event: event.name, attempt: run.attempt, replayed: run.replayed };
  if (dispatched.outcome === "unavailable") {
    const what =
      dispatched.store === "images"
        ? `an image of ${printable(event.name)} could not be kept yet`
        : dispatched.store === "api"
          ? `${printable(event.name)}'s generation could not be read back from ${event.provider}'s API`
          : `the generation store failed for ${printable(event.name)}`;
    logger.warn({ ...line, err: dispatched.error }, `imagegen-webhooks: ${what}; the delivery will be retried`);
    throw dispatched.error;
  }
  if (dispatched.outcome === "failed") {
    logger.warn(
      { ...line, outcome: "failed", durationMs: elapsedMs(delivery.startedAt) },
      `imagegen-webhooks: ${printable(event.name)} failed on attempt ${run.attempt}`,
    );
    const { failure } = dispatched;
    const cause = failure instanceof ListenerFailure ? failure.cause : failure;
    throw cause instanceof Error ? cause : new Error(String(cause));
  }
  logger.info(
    { ...line, outcome: "handled", durationMs: elapsedMs(delivery.startedAt) },
    `imagegen-webhooks: ${printable(event.name)} handled`,
  );
}
