import { printable } from "./printable";
import type { AnyWebhookEvent } from "./webhook-event";

/** A listener threw or rejected; `event` is the delivery it was handling. */
export class WebhookHandlerError extends Error {
  readonly event?: AnyWebhookEvent;
  /** The name of the event whose listener failed. */
  readonly eventName?: string;

  constructor(cause: unknown, event?: AnyWebhookEvent, eventName?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    // The event's name and id come from the body: escaped, since a logger prints the message (and the stack that repeats it) as it is.
    super(`a listener of "${printable(eventName ?? "?")}" failed${event ? ` for delivery ${printable(event.id)}` : ""}: ${reason}`, {
      cause,
    });
    this.name = "WebhookHandlerError";
    if (event) this.event = event;
    if (eventName) this.eventName = eventName;
  }
}
