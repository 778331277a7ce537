import { WebhookError } from "../errors";
import type { Logger } from "../logger";
import type { ClaimResult, DedupeStore } from "../stores/store";

/** The provider retries a store outage: ask it to wait a little. */
const STORE_RETRY_AFTER_SECONDS = "10";

/** What a claim gave: the store's answer, or `unavailable` when the user chose to go on without it. */
export type ClaimOutcome = ClaimResult | "unavailable";

/**
 * Claims a delivery's key. A store that fails becomes `503`, so that nothing is emitted and the
 * provider retries; with `failOpen` the delivery goes on undeduplicated instead.
 */
export async function claimDelivery(store: DedupeStore, key: string, logger: Logger, failOpen: boolean): Promise<ClaimOutcome> {
  try {
    return await store.claim(key);
  } catch (err) {
    if (failOpen) {
      logger.warn({ err, key }, "imagegen-webhooks: the dedupe store failed; handling the delivery without deduplication (dedupeFailOpen)");
      return "unavailable";
    }
    logger.error({ err, key }, "imagegen-webhooks: the dedupe store failed; answering 503 so that the provider retries");
    throw new WebhookError("store.unavailable", { headers: { "retry-after": STORE_RETRY_AFTER_SECONDS } });
  }
}

/** After the listeners: remember the key as done, or forget it so the retry is handled. A failure here only logs. */
export async function settleDelivery(store: DedupeStore, key: string, handled: boolean, logger: Logger): Promise<void> {
  try {
    await (handled ? store.complete(key) : store.release(key));
  } catch (err) {
    logger.error({ err, key }, `imagegen-webhooks: the dedupe store failed to ${handled ? "complete" : "release"} a key`);
  }
}
