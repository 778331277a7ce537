import type { EventEmitter } from "node:events";
import { InvalidListenerError, WebhookHandlerError } from "../errors";
import { warnOnce } from "../logging/warn-once";
import type { AnyWebhookEvent, InvalidDelivery } from "../events/event-map";
import { silentLogger, type Logger } from "../logging/logger";
import { printable } from "../text/printable";
import { isThenable } from "../async/thenable";

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

/** Said once per receiver where a listener fails with nothing to hear it: no `error` listener, no logger. */
export const UNHEARD_LISTENER_FAILURE =
  'imagegen-webhooks: a listener failed, and nothing hears why: no "error" listener, no logger (the sender sees only 500 handler.failed, the inbox a retry). ' +
  'Add webhooks.on("error", (err) => console.error(err.eventName, err.event.id, err.cause)), or createWebhooks({ logger: console, … })';

/** Said once per receiver where an `invalid` listener fails with no logger (its failure is not the `error` event's). */
export const UNHEARD_INVALID_LISTENER_FAILURE =
  'imagegen-webhooks: an "invalid" listener failed, and nothing hears why: no logger is set. Pass createWebhooks({ logger: console, … })';

/**
 * `error` with no listener goes to the logger: unlike a bare EventEmitter, a failed listener
 * must not take the host process down. With the default silent logger, a process warning (once)
 * says how to hear it, or a listener's bug would only show as the sender's 500s.
 */
export function reportError(emitter: EventEmitter, logger: Logger, error: WebhookHandlerError): void {
  const fields = { err: error, deliveryId: error.event.id, provider: error.event.provider, eventName: error.eventName };
  if (emitter.listenerCount("error") === 0) {
    logUnheard(emitter, logger, fields, "imagegen-webhooks: a listener failed", UNHEARD_LISTENER_FAILURE);
    return;
  }
  emitAside(emitter, "error", error, (err) =>
    logger.error({ ...fields, listenerError: err }, "imagegen-webhooks: an error listener failed too"),
  );
}

function logUnheard(emitter: EventEmitter, logger: Logger, fields: object, message: string, warning: string): void {
  if (logger === silentLogger) warnOnce(logger, warning, "warn", emitter);
  else logger.error(fields, message);
}

/** A failed `invalid` listener has no delivery to give the `error` event: the logger hears it. */
export function reportInvalid(emitter: EventEmitter, logger: Logger, invalid: InvalidDelivery): void {
  if (emitter.listenerCount("invalid") === 0) return;
  emitAside(emitter, "invalid", invalid, (err) =>
    logUnheard(
      emitter,
      logger,
      { err: new InvalidListenerError(err, invalid), provider: invalid.provider, eventName: "invalid" },
      "imagegen-webhooks: an invalid listener failed",
      UNHEARD_INVALID_LISTENER_FAILURE,
    ),
  );
}

export function reportDuplicate(emitter: EventEmitter, logger: Logger, event: AnyWebhookEvent): void {
  if (emitter.listenerCount("duplicate") === 0) return;
  emitAside(emitter, "duplicate", event, (err) => reportError(emitter, logger, new WebhookHandlerError(err, event, "duplicate")));
}

/** What became of a delivery, in the one line logged for it. */
export type DeliveryOutcome =
  | "handled"
  | "stored"
  | "refused"
  | "duplicate"
  | "in-flight"
  | "store-unavailable"
  | "keys-unavailable"
  | "closing"
  | "failed"
  | "timed-out";

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
  /** Why the provider's signing keys could not be had (`keys-unavailable`): jose's or the network's words, never a key. */
  detail?: string;
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
