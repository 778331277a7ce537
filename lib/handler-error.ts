import type { AnyWebhookEvent } from "./webhook-event";

/** A listener threw or rejected; `event` is the delivery it was handling. */
export class WebhookHandlerError extends Error {
  readonly event?: AnyWebhookEvent;
  /** The name of the event whose listener failed. */
  readonly eventName?: string;

  constructor(cause: unknown, event?: AnyWebhookEvent, eventName?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`a listener of "${eventName ?? "?"}" failed${event ? ` for delivery ${event.id}` : ""}: ${reason}`, {
      cause,
    });
    this.name = "WebhookHandlerError";
    if (event) this.event = event;
    if (eventName) this.eventName = eventName;
  }
}
