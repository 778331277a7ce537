import type { AnyWebhookEvent, EventOrigin } from "../events";
import type { HeadersInput } from "../headers";
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
export function buildEvent(provider: ResolvedProvider, { identity, payload, receivedAt, run = FIRST_RUN }: EventSource): AnyWebhookEvent {
  return {
    id: identity.id,
    provider: provider.name,
    name: identity.name,
    payload,
    generation: provider.provider.normalize(payload, { resolveImageUrl: provider.resolveImageUrl, receivedAt }),
    receivedAt,
    attempt: run.attempt,
    replayed: run.replayed,
    origin: run.origin,
  } as AnyWebhookEvent;
}
