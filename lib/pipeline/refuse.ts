import { WebhookError } from "../errors";
import type { WebhookResponse } from "../http/response";
import { problemAnswer } from "./answer";
import { elapsedMs } from "./delivery";
import type { Receiver } from "./receiver";
import { logDelivery, reportInvalid, type DeliveryOutcome } from "./report";
import { recordDelivery, recordNotFound } from "../telemetry/index";

/** A request the pipeline does not take: whose it is, what became of it, and why. */
export interface TurnedAway {
  provider: string;
  outcome: DeliveryOutcome;
  error: WebhookError;
  /** `performance.now()` when the request came; default now. */
  startedAt?: number;
}

/** Answers a request the pipeline does not take: logged and recorded under `outcome`, the error's word its reason. */
export function turnAway(receiver: Receiver, { provider, outcome, error, startedAt = performance.now() }: TurnedAway): WebhookResponse {
  const line = {
    provider,
    outcome,
    status: error.status,
    reason: error.code,
    durationMs: elapsedMs(startedAt),
    // Why keys could not be had, or which account another account's delivery names: what the log's reader acts on.
    ...((outcome === "keys-unavailable" || error.code === "auth.wrong-account") && error.detail !== undefined && { detail: error.detail }),
  };
  logDelivery(receiver.options.logger, line);
  if (receiver.telemetry) recordDelivery(receiver.telemetry, line);
  return problemAnswer(error);
}

/** Answers a refusal, logs it, and tells the `invalid` listeners why (no secret, no body). */
export function refuse(receiver: Receiver, provider: string, error: WebhookError, startedAt = performance.now()): WebhookResponse {
  // Keys that could not be fetched say nothing of the delivery: the provider is asked to retry, and the log says why.
  if (error.code === "keys.unavailable") return turnAway(receiver, { provider, outcome: "keys-unavailable", error, startedAt });
  const answer = turnAway(receiver, { provider, outcome: "refused", error, startedAt });
  const { status, code: reason } = error;
  const { emitter, options } = receiver;
  reportInvalid(emitter, options.logger, { provider, status, reason, ...(error.errors && { errors: error.errors }) });
  return answer;
}

/**
 * The 404 for a request on no provider's path, where this package answers it (a bare server,
 * `fetch()`, `receive()`; Express passes it on to `next()`). Recorded, but neither logged nor an
 * `invalid` event: it is no provider's delivery, and a scanner's probes would fill the log.
 */
export function notFound(receiver: Receiver, startedAt = performance.now()): WebhookResponse {
  const error = new WebhookError("route.not-found");
  if (receiver.telemetry) recordNotFound(receiver.telemetry, error, startedAt);
  return problemAnswer(error);
}
