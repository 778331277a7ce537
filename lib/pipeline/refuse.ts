import type { WebhookError } from "../errors";
import type { WebhookResponse } from "../response";
import { problemAnswer } from "./answer";
import { elapsedMs } from "./delivery";
import type { Receiver } from "./receiver";
import { logDelivery, reportInvalid, type DeliveryLog } from "./report";
import { recordDelivery } from "../telemetry/index";

/** Answers a refusal, logs it, and tells the `invalid` listeners why (no secret, no body). */
export function refuse(receiver: Receiver, provider: string, error: WebhookError, startedAt = performance.now()): WebhookResponse {
  const { status, code: reason } = error;
  const { emitter, options } = receiver;
  const line: DeliveryLog = { provider, outcome: "refused", status, reason, durationMs: elapsedMs(startedAt) };
  logDelivery(options.logger, line);
  if (receiver.telemetry) recordDelivery(receiver.telemetry, line);
  reportInvalid(emitter, options.logger, { provider, status, reason, ...(error.errors && { errors: error.errors }) });
  return problemAnswer(error);
}
