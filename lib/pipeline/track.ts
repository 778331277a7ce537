import type { AnyWebhookEvent } from "../events/event-map";
import type { Advance, TrackingStore } from "../stores/store";
import { isThenable } from "../async/thenable";
import type { Receiver } from "./receiver";

/** A generation whose status is `unknown` is not ordered: its events fire as they come. */
const UNTRACKED: Advance = { moved: true, previous: undefined };

/**
 * Moves the delivery's generation forward in the store, says on the event where it came from
 * (`generation.previousStatus`), and tells the reconciler whether it is still open. Synchronous
 * with the memory store. A store that fails rejects: the delivery is answered `503` (or, in a
 * worker, retried), never emitted out of order.
 */
export function trackGeneration(receiver: Receiver, event: AnyWebhookEvent, deliveryKey: string): Advance | Promise<Advance> {
  const { generation } = event;
  // A delivery about no generation (OpenAI's `batch.completed`) has none to move or to read back.
  if (!isAboutGeneration(receiver, event)) return UNTRACKED;
  const store = receiver.options.generations;
  if (!store || generation.status === "unknown") return noted(receiver, event, UNTRACKED);
  const advance = store.advance(`${event.provider}:${generation.id}`, generation.status, generation.images.length, deliveryKey);
  if (!isThenable(advance)) return noted(receiver, event, advance);
  return Promise.resolve(advance).then((settled) => noted(receiver, event, settled));
}

function noted(receiver: Receiver, event: AnyWebhookEvent, advance: Advance): Advance {
  const { generation } = event;
  if (advance.previous !== undefined) generation.previousStatus = advance.previous;
  const metadata = advance.tracked?.metadata;
  if (metadata !== undefined) event.metadata = generation.metadata = metadata;
  // A stale delivery leaves the generation where it was: open or not as that status says.
  receiver.openGenerations?.note(
    event.provider,
    generation.id,
    advance.moved ? generation.status : (advance.previous ?? generation.status),
    Date.now(),
    advance.tracked?.app,
  );
  return advance;
}

/**
 * A tracked generation that moved forward: its images (kept, where `keepImages` is on), how and
 * when it was heard of, for `webhooks.generations.get()`; its end wakes `wait()` on every instance.
 */
export function recordTracked(receiver: Receiver, event: AnyWebhookEvent): void | Promise<void> {
  const store = receiver.options.generations as Partial<TrackingStore> | undefined;
  if (typeof store?.record !== "function") return;
  const { generation } = event;
  // The images as they are now (kept, where `keepImages` is on): read, never changed, from here on.
  const heard = { images: generation.images, origin: event.origin, at: Date.now() };
  const ended = generation.status === "completed" || generation.status === "failed";
  const recorded = store.record(`${event.provider}:${generation.id}`, heard, ended);
  return isThenable(recorded) ? Promise.resolve(recorded) : undefined;
}

/** Whether the event is about a generation, as its provider's `isGeneration` says: most are. */
export function isAboutGeneration(receiver: Receiver, event: AnyWebhookEvent): boolean {
  const provider = receiver.options.providers.get(event.provider)?.provider;
  return provider?.isGeneration === undefined || provider.isGeneration(event.payload);
}
