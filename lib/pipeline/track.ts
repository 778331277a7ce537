import type { AnyWebhookEvent } from "../events";
import type { Advance, GenerationStore } from "../stores/store";
import { isThenable } from "../thenable";

/** A generation whose status is `unknown` is not ordered: its events fire as they come. */
const UNTRACKED: Advance = { moved: true, previous: undefined };

/**
 * Moves the delivery's generation forward in the store, and says on the event where it came from
 * (`generation.previousStatus`). Synchronous with the memory store. A store that fails rejects:
 * the delivery is answered `503` (or, in a worker, retried), never emitted out of order.
 */
export function trackGeneration(
  store: GenerationStore | undefined,
  event: AnyWebhookEvent,
  deliveryKey: string,
): Advance | Promise<Advance> {
  const { generation } = event;
  if (!store || generation.status === "unknown") return UNTRACKED;
  const advance = store.advance(`${event.provider}:${generation.id}`, generation.status, generation.images.length, deliveryKey);
  if (!isThenable(advance)) return described(event, advance);
  return Promise.resolve(advance).then((settled) => described(event, settled));
}

function described(event: AnyWebhookEvent, advance: Advance): Advance {
  if (advance.previous !== undefined) event.generation.previousStatus = advance.previous;
  return advance;
}
