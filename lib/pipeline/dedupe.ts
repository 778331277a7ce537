import { WebhookError } from "../errors";
import type { Logger } from "../logger";
import type { ClaimResult, DedupeStore } from "../stores/store";
import { isThenable } from "../thenable";

/** The provider retries a store outage: ask it to wait a little. */
export const STORE_RETRY_AFTER_SECONDS = "10";

/** What a claim gave: the store's answer, or `unavailable` when the user chose to go on without it. */
export type ClaimOutcome = ClaimResult | "unavailable";

/**
 * Claims a delivery's key. A store that fails becomes `503`, so that nothing is emitted and the
 * provider retries; with `failOpen` the delivery goes on undeduplicated instead.
 *
 * A store that answers synchronously (the memory store) is answered synchronously: each await
 * was a microtask and a promise on every delivery.
 */
export function claimDelivery(store: DedupeStore, key: string, logger: Logger, failOpen: boolean): ClaimOutcome | Promise<ClaimOutcome> {
  let result: ClaimResult | PromiseLike<ClaimResult>;
  try {
    result = store.claim(key);
  } catch (err) {
    return claimFailed(err, key, logger, failOpen);
  }
  if (!isThenable(result)) return result;
  return Promise.resolve(result).then(undefined, (err: unknown) => claimFailed(err, key, logger, failOpen));
}

function claimFailed(err: unknown, key: string, logger: Logger, failOpen: boolean): "unavailable" {
  if (failOpen) {
    logger.warn({ err, key }, "imagegen-webhooks: the dedupe store failed; handling the delivery without deduplication (dedupeFailOpen)");
    return "unavailable";
  }
  logger.error({ err, key }, "imagegen-webhooks: the dedupe store failed; answering 503 so that the provider retries");
  throw new WebhookError("store.unavailable", { headers: { "retry-after": STORE_RETRY_AFTER_SECONDS } });
}

/**
 * After the listeners: remember the key as done, or forget it so the retry is handled. A failure
 * here only logs; never throws or rejects. A promise only when the store answered with one.
 */
export function settleDelivery(store: DedupeStore, key: string, handled: boolean, logger: Logger): void | Promise<void> {
  const failed = (err: unknown) => {
    logger.error({ err, key }, `imagegen-webhooks: the dedupe store failed to ${handled ? "complete" : "release"} a key`);
  };
  let result: void | PromiseLike<void>;
  try {
    result = handled ? store.complete(key) : store.release(key);
  } catch (err) {
    return failed(err);
  }
  if (isThenable(result)) return Promise.resolve(result).then(undefined, failed);
}
