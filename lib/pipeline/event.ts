import type { AnyWebhookEvent, EventOrigin, Generation } from "../events/event-map";
import type { HeadersInput } from "../http/headers";
import type { ResolvedProvider } from "./receiver";

/** What names a delivery: its idempotency key and its provider-specific event name. */
export interface DeliveryIdentity {
  id: string;
  name: string;
}

/** Reads a checked payload's identity; some providers key on a header (Replicate's `webhook-id`). */
export function identify(provider: ResolvedProvider, payload: unknown, headers: HeadersInput | undefined): DeliveryIdentity {
  return {
    id: provider.provider.idempotencyKey(payload, { headers }),
    name: `${provider.name}.${provider.provider.eventName(payload)}`,
  };
}

/** How many times, and why, the listeners are run for this delivery, and where it came from. */
export interface RunInfo {
  attempt: number;
  replayed: boolean;
  origin: EventOrigin;
}

/** What an event is built from: who the delivery is, its checked payload, and this run of it. */
export interface EventSource {
  identity: DeliveryIdentity;
  payload: unknown;
  receivedAt: Date;
  /** Default: the first run of a webhook delivery. */
  run?: RunInfo;
}

const FIRST_RUN: RunInfo = { attempt: 1, replayed: false, origin: "webhook" };

/** The `WebhookEvent` the listeners receive, with its normalized generation. */
export function buildEvent(provider: ResolvedProvider, source: EventSource): AnyWebhookEvent {
  return new ListenerEvent(provider, source) as unknown as AnyWebhookEvent;
}

/** Aborts `event.signal` (now, or as it is first read) with `reason`; a second abort changes nothing. */
export function abortEvent(event: AnyWebhookEvent, reason: unknown): void {
  abortListenerEvent(event, reason);
}

let abortListenerEvent: (event: object, reason: unknown) => void;

/**
 * An event with its `signal` made on first read: most listeners never read it, and an
 * AbortController for each delivery would cost the synchronous path for nothing. The getter lives
 * on the prototype, so `{ ...event }` and `JSON.stringify(event)` give the delivery's fields only.
 */
class ListenerEvent {
  readonly id: string;
  readonly provider: string;
  readonly name: string;
  readonly payload: unknown;
  readonly generation: Generation<string>;
  readonly receivedAt: Date;
  readonly attempt: number;
  readonly replayed: boolean;
  readonly origin: EventOrigin;
  #controller: AbortController | undefined;
  #aborted: { reason: unknown } | undefined;

  constructor(provider: ResolvedProvider, { identity, payload, receivedAt, run = FIRST_RUN }: EventSource) {
    this.id = identity.id;
    this.provider = provider.name;
    this.name = identity.name;
    this.payload = payload;
    this.generation = provider.provider.normalize(payload, { resolveImageUrl: provider.resolveImageUrl, receivedAt });
    this.receivedAt = receivedAt;
    this.attempt = run.attempt;
    this.replayed = run.replayed;
    this.origin = run.origin;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#aborted.reason);
    }
    return this.#controller.signal;
  }

  static {
    abortListenerEvent = (event, reason) => {
      if (!(event instanceof ListenerEvent) || event.#aborted) return;
      event.#aborted = { reason };
      event.#controller?.abort(reason);
    };
  }
}
