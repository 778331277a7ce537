import { printable } from "../text/printable";
import type { AnyWebhookEvent, InvalidDelivery, ProviderSet } from "../events/webhook-event";

/**
 * A listener of a delivery's events threw or rejected: the argument of the `error` event. `event`
 * is the delivery it was handling, always there (a failure with no delivery is an `InvalidListenerError`).
 */
export class WebhookHandlerError<Event extends AnyWebhookEvent<ProviderSet> = AnyWebhookEvent> extends Error {
  readonly event: Event;
  /** The name of the event whose listener failed. */
  readonly eventName?: string;

  constructor(cause: unknown, event: Event, eventName?: string) {
    // The event's name and id come from the body: escaped, since a logger prints the message (and the stack that repeats it) as it is.
    super(`a listener of "${printable(eventName ?? "?")}" failed for delivery ${printable(event.id)}: ${reasonOf(cause)}`, { cause });
    this.name = "WebhookHandlerError";
    this.event = event;
    if (eventName) this.eventName = eventName;
  }
}

/**
 * A listener of `invalid` threw or rejected. A refused delivery is no event, so this failure is not
 * the `error` event's (whose `err.event` is always a delivery): it goes to the logger, like a failed
 * `dead` listener. `invalid` is the refusal the listener was told of.
 */
export class InvalidListenerError extends Error {
  readonly eventName = "invalid";
  readonly invalid: InvalidDelivery;

  constructor(cause: unknown, invalid: InvalidDelivery) {
    super(
      `a listener of "invalid" failed for a ${printable(invalid.provider)} delivery refused with ${invalid.reason}: ${reasonOf(cause)}`,
      { cause },
    );
    this.name = "InvalidListenerError";
    this.invalid = invalid;
  }
}

function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
