import type { EventEmitter } from "node:events";
import { WebhookHandlerError } from "../errors";
import type { AnyWebhookEvent, InvalidDelivery } from "../events";
import { silentLogger, type Logger } from "../logger";
import { printable } from "../printable";
import { isThenable } from "../thenable";

/**
 * Emits one of the events outside the main flow. Their listeners cannot change the answer, so
 * a failure among them is reported (through `error`, or the logger for `error` itself), never thrown.
 */
export function emitAside(emitter: EventEmitter, name: string, arg: unknown, onFailure: (err: unknown) => void): void {
  for (const listener of emitter.rawListeners(name) as ((arg: unknown) => unknown)[]) {
    try {
      const result = listener.call(emitter, arg);
      if (isThenable(result)) result.then(undefined, onFailure);
    } catch (err) {
      onFailure(err);
    }
  }
}

/**
 * `error` with no listener goes to the logger: unlike a bare EventEmitter, a failed listener
 * must not take the host process down.
 */
export function reportError(emitter: EventEmitter, logger: Logger, error: WebhookHandlerError): void {
  const fields = { err: error, deliveryId: error.event?.id, provider: error.event?.provider, eventName: error.eventName };
  if (emitter.listenerCount("error") === 0) {
    logger.error(fields, "imagegen-webhooks: a listener failed");
    return;
  }
  emitAside(emitter, "error", error, (err) =>
    logger.error({ ...fields, listenerError: err }, "imagegen-webhooks: an error listener failed too"),
  );
}

export function reportInvalid(emitter: EventEmitter, logger: Logger, invalid: InvalidDelivery): void {
  if (emitter.listenerCount("invalid") === 0) return;
  emitAside(emitter, "invalid", invalid, (err) => reportError(emitter, logger, new WebhookHandlerError(err, undefined, "invalid")));
}

export function reportDuplicate(emitter: EventEmitter, logger: Logger, event: AnyWebhookEvent): void {
  if (emitter.listenerCount("duplicate") === 0) return;
  emitAside(emitter, "duplicate", event, (err) => reportError(emitter, logger, new WebhookHandlerError(err, event, "duplicate")));
}

/** What became of a delivery, in the one line logged for it. */
export type DeliveryOutcome =
  "handled" | "stored" | "refused" | "duplicate" | "in-flight" | "store-unavailable" | "closing" | "failed" | "timed-out";

/** The one line logged for each delivery. Never a secret or the body: ids, names, the status, the time taken. */
export interface DeliveryLog {
  provider: string;
  outcome: DeliveryOutcome;
  status: number;
  durationMs: number;
  deliveryId?: string;
  event?: string;
  /** A refusal's word, e.g. `auth.failed`. */
  reason?: string;
}

/** Each delivery is logged once: at info, or at warn when the provider did not get a plain answer (a 5xx, or a 202 while listeners run on). */
export function logDelivery(logger: Logger, line: DeliveryLog): void {
  // With no logger given, the message is not even formatted.
  if (logger === silentLogger) return;
  // The event's name comes from the body (a crazyhorse `state`): escaped, so that it cannot end the line.
  const message = `imagegen-webhooks: ${printable(line.event ?? line.provider)} ${line.outcome}, answered ${line.status}`;
  if (line.status >= 500 || line.status === 202) logger.warn(line, message);
  else logger.info(line, message);
}
