import { WebhookError } from "../errors";
import type { Logger } from "../logging/logger";
import type { ClaimResult, DedupeStore } from "../stores/store";
import { isThenable } from "../async/thenable";

/** The provider retries a store outage: ask it to wait a little. */
export const STORE_RETRY_AFTER_SECONDS = "10";

/** After the work: completes (`true`) or releases (`false`) the claimed key. Never throws or rejects. */
export type SettleClaim = (handled: boolean) => void | Promise<void>;

/** What a claim gave: the key, with how to settle it after the work, or what the store already knows of it. */
export type Claim = { readonly settle: SettleClaim } | "done" | "in-flight";

/** Nothing was claimed (no store, a worker's delivery, a store outage under `dedupeFailOpen`): nothing to settle. */
export const NOTHING_CLAIMED: Claim = { settle: () => undefined };

/**
 * Claims a delivery's key. A store that fails becomes `503`, so that nothing is emitted and the
 * provider retries; with `failOpen` the delivery goes on undeduplicated instead.
 *
 * A store that answers synchronously (the memory store) is answered synchronously: each await
 * was a microtask and a promise on every delivery.
 */
export function claimDelivery(store: DedupeStore, key: string, logger: Logger, failOpen: boolean): Claim | Promise<Claim> {
  let result: ClaimResult | PromiseLike<ClaimResult>;
  try {
    result = store.claim(key);
  } catch (err) {
    return claimFailed(err, key, logger, failOpen);
  }
  if (!isThenable(result)) return claimed(store, key, logger, result);
  return Promise.resolve(result).then(
    (settled) => claimed(store, key, logger, settled),
    (err: unknown) => claimFailed(err, key, logger, failOpen),
  );
}

/** Claims a key, a store that fails rejecting with its own error: for work its caller tries again later. */
export async function claimKey(store: DedupeStore, key: string, logger: Logger): Promise<Claim> {
  return claimed(store, key, logger, await store.claim(key));
}

function claimed(store: DedupeStore, key: string, logger: Logger, result: ClaimResult): Claim {
  return result === "claimed" ? { settle: (handled) => settleDelivery(store, key, handled, logger) } : result;
}

function claimFailed(err: unknown, key: string, logger: Logger, failOpen: boolean): Claim {
  if (failOpen) {
    logger.warn({ err, key }, "imagegen-webhooks: the dedupe store failed; handling the delivery without deduplication (dedupeFailOpen)");
    return NOTHING_CLAIMED;
  }
  logger.error({ err, key }, "imagegen-webhooks: the dedupe store failed; answering 503 so that the provider retries");
  throw new WebhookError("store.unavailable", { headers: { "retry-after": STORE_RETRY_AFTER_SECONDS } });
}

/**
 * After the listeners: remember the key as done, or forget it so the retry is handled. A failure
 * here only logs; never throws or rejects. A promise only when the store answered with one.
 */
function settleDelivery(store: DedupeStore, key: string, handled: boolean, logger: Logger): void | Promise<void> {
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
