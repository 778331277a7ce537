import { WebhookError } from "../errors";
import type { Advance, DedupeStore } from "../stores/store";
import { isThenable } from "../thenable";
import { problemAnswer, providerAnswer } from "./answer";
import { settleWithin, TIMED_OUT } from "./deadline";
import { claimDelivery, settleDelivery, STORE_RETRY_AFTER_SECONDS, type ClaimOutcome } from "./dedupe";
import type { Delivery, Verdict } from "./delivery";
import { keepAndEmit } from "./keep-images";
import { toHandlerError } from "./listeners";
import { track } from "./receiver";
import { reportDuplicate, reportError, type DeliveryOutcome } from "./report";
import { trackGeneration } from "./track";

/** After the listeners: completes (`true`) or releases (`false`) the delivery's key in the store that holds its claim. */
type SettleClaim = (handled: boolean) => void | Promise<void>;

/** Nothing was claimed (no store, or a store outage under `dedupeFailOpen`): there is nothing to complete or release. */
const NOTHING_CLAIMED: SettleClaim = () => undefined;

const success = (delivery: Delivery, outcome: DeliveryOutcome, status?: number): Verdict => ({
  answer: providerAnswer(delivery.provider.provider.answer, status),
  outcome,
});
const failure = (outcome: DeliveryOutcome, error: WebhookError): Verdict => ({ answer: problemAnswer(error), outcome });

/** Then `next`, at once when `settled` is not a promise. */
function after<T>(settled: void | Promise<void>, next: () => T): T | Promise<T> {
  return settled ? settled.then(next) : next();
}

/**
 * Steps 7 to 9 without an inbox: dedupe, emit, answer, all while the provider waits. Synchronous
 * while the store and the listeners are: the memory store and plain listeners cost no promise
 * and no microtask; a promise from either one is awaited where it appears.
 */
export function handleInProcess(delivery: Delivery): Verdict | Promise<Verdict> {
  const { store, logger, dedupeFailOpen } = delivery.receiver.options;
  if (!store) return emitAndAnswer(delivery, NOTHING_CLAIMED);
  let claim: ClaimOutcome | Promise<ClaimOutcome>;
  try {
    claim = claimDelivery(store, delivery.key, logger, dedupeFailOpen);
  } catch (err) {
    return storeRefused(err);
  }
  if (isThenable(claim)) return claim.then((outcome) => afterClaim(delivery, store, outcome), storeRefused);
  return afterClaim(delivery, store, claim);
}

function storeRefused(err: unknown): Verdict {
  if (err instanceof WebhookError) return failure("store-unavailable", err);
  throw err;
}

function afterClaim(delivery: Delivery, store: DedupeStore, claim: ClaimOutcome): Verdict | Promise<Verdict> {
  const { emitter, options } = delivery.receiver;
  if (claim === "done") {
    reportDuplicate(emitter, options.logger, delivery.event);
    return success(delivery, "duplicate");
  }
  if (claim === "in-flight") {
    const retryAfter = String(Math.max(1, Math.ceil(Math.min(options.handlerTimeoutMs, 60_000) / 1000)));
    return failure("in-flight", new WebhookError("delivery.in-flight", { headers: { "retry-after": retryAfter } }));
  }
  if (claim === "unavailable") return emitAndAnswer(delivery, NOTHING_CLAIMED);
  return emitAndAnswer(delivery, (handled) => settleDelivery(store, delivery.key, handled, options.logger));
}

/** The generation's order first (`generation.stale` or a move forward), then the listeners. */
function emitAndAnswer(delivery: Delivery, settleClaim: SettleClaim): Verdict | Promise<Verdict> {
  let tracked: Advance | Promise<Advance>;
  try {
    tracked = trackGeneration(delivery.receiver, delivery.event, delivery.key);
  } catch (err) {
    return trackingFailed(delivery, settleClaim, err);
  }
  if (isThenable(tracked)) {
    return tracked.then(
      (advance) => emitTracked(delivery, settleClaim, advance.moved),
      (err: unknown) => trackingFailed(delivery, settleClaim, err),
    );
  }
  return emitTracked(delivery, settleClaim, tracked.moved);
}

/**
 * The generation store failed: nothing is emitted, the claim is released, the provider retries.
 * Under `dedupeFailOpen` the delivery goes on unordered instead, as it goes on undeduplicated.
 */
function trackingFailed(delivery: Delivery, settleClaim: SettleClaim, err: unknown): Verdict | Promise<Verdict> {
  const { logger, dedupeFailOpen } = delivery.receiver.options;
  if (dedupeFailOpen) {
    logger.warn({ err, key: delivery.key }, "imagegen-webhooks: the generation store failed; emitting without ordering (dedupeFailOpen)");
    return emitTracked(delivery, settleClaim, true);
  }
  logger.error({ err, key: delivery.key }, "imagegen-webhooks: the generation store failed; answering 503 so that the provider retries");
  const error = new WebhookError("store.unavailable", { headers: { "retry-after": STORE_RETRY_AFTER_SECONDS } });
  return after(settleClaim(false), () => failure("store-unavailable", error));
}

function emitTracked(delivery: Delivery, settleClaim: SettleClaim, movedForward: boolean): Verdict | Promise<Verdict> {
  const { emitter, options } = delivery.receiver;
  /** Settles the claim, then reports a failure through `error`. */
  const conclude = (failed: unknown): void | Promise<void> => {
    const settled = settleClaim(failed === undefined);
    if (failed === undefined) return settled;
    return after(settled, () => reportError(emitter, options.logger, toHandlerError(failed, delivery.event)));
  };

  let running: Promise<void> | undefined;
  try {
    running = keepAndEmit(options.keepImages, emitter, delivery.event, movedForward, delivery.receiver.telemetry);
  } catch (failed) {
    return after(conclude(failed), () => failure("failed", new WebhookError("handler.failed")));
  }
  if (!running) return after(conclude(undefined), () => success(delivery, "handled"));
  return awaitListeners(delivery, running, conclude);
}

/** Listeners that returned a promise: the answer waits for them, up to `handlerTimeoutMs`. */
async function awaitListeners(
  delivery: Delivery,
  running: Promise<void>,
  conclude: (failed: unknown) => void | Promise<void>,
): Promise<Verdict> {
  const outcome = await settleWithin(running, delivery.receiver.options.handlerTimeoutMs);
  if (outcome === TIMED_OUT) {
    // The provider gets its answer now; the listeners go on, and a late failure still releases the key.
    const rest = track(
      delivery.receiver,
      running.then(
        () => conclude(undefined),
        (failed: unknown) => conclude(failed),
      ),
    );
    // On serverless the work after the answer lives only as long as the platform is told to wait for it.
    delivery.waitUntil?.(rest);
    return success(delivery, "timed-out", 202);
  }
  await conclude(outcome.failure);
  return outcome.failure === undefined ? success(delivery, "handled") : failure("failed", new WebhookError("handler.failed"));
}
