import { WebhookError } from "../errors";
import { problemAnswer, providerAnswer } from "./answer";
import { claimDelivery, NOTHING_CLAIMED, STORE_RETRY_AFTER_SECONDS } from "./dedupe";
import type { Delivery, Verdict } from "./delivery";
import { dispatch, type Dispatched } from "./dispatch";
import { reportDuplicate, type DeliveryOutcome } from "./report";

const success = (delivery: Delivery, outcome: DeliveryOutcome, status?: number): Verdict => ({
  answer: providerAnswer(delivery.provider.provider.answer, status),
  outcome,
});
const failure = (outcome: DeliveryOutcome, error: WebhookError): Verdict => ({ answer: problemAnswer(error), outcome });

/**
 * Steps 7 to 9 without an inbox: dedupe, emit, answer, all while the provider waits, which the
 * answer tells how it went. Synchronous while the store and the listeners are.
 */
export function handleInProcess(delivery: Delivery): Verdict | Promise<Verdict> {
  const { store, logger, dedupeFailOpen, handlerTimeoutMs } = delivery.receiver.options;
  return dispatch(delivery, {
    claim: store ? ({ key }) => claimDelivery(store, key, logger, dedupeFailOpen) : () => NOTHING_CLAIMED,
    failOpen: dedupeFailOpen,
    fireStale: true,
    retryTransient: false,
    answerWithinMs: handlerTimeoutMs,
    conclude: (dispatched) => answer(delivery, dispatched),
  });
}

function answer(delivery: Delivery, dispatched: Dispatched): Verdict {
  const { emitter, options } = delivery.receiver;
  switch (dispatched.outcome) {
    case "handled":
      return success(delivery, "handled");
    case "timed-out":
      return success(delivery, "timed-out", 202);
    case "duplicate":
      reportDuplicate(emitter, options.logger, delivery.event);
      return success(delivery, "duplicate");
    case "in-flight": {
      const retryAfter = String(Math.max(1, Math.ceil(Math.min(options.handlerTimeoutMs, 60_000) / 1000)));
      return failure("in-flight", new WebhookError("delivery.in-flight", { headers: { "retry-after": retryAfter } }));
    }
    case "failed":
      return failure("failed", new WebhookError("handler.failed"));
    case "unavailable":
      return unavailable(delivery, dispatched.store, dispatched.error);
  }
}

/** A store failed: `503`, so that the provider retries (the dedupe store's own failure is logged and made a `WebhookError` as it is claimed). */
function unavailable(delivery: Delivery, store: "dedupe" | "generations" | "images" | "api", error: unknown): Verdict {
  if (store === "dedupe") {
    if (error instanceof WebhookError) return failure("store-unavailable", error);
    throw error;
  }
  if (store === "api") {
    // Nothing was emitted and the key is released: the provider's retry reads it back again.
    delivery.receiver.options.logger.error(
      { err: error, key: delivery.key },
      `imagegen-webhooks: ${delivery.event.name}'s generation could not be read back from ${delivery.provider.name}'s API; answering 500 so that the provider retries`,
    );
    return failure("failed", new WebhookError("completion.failed"));
  }
  delivery.receiver.options.logger.error(
    { err: error, key: delivery.key },
    `imagegen-webhooks: the ${store === "images" ? "image" : "generation"} store failed; answering 503 so that the provider retries`,
  );
  return failure("store-unavailable", new WebhookError("store.unavailable", { headers: { "retry-after": STORE_RETRY_AFTER_SECONDS } }));
}
