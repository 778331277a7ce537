import type { EventEmitter } from "node:events";
import { WebhookHandlerError } from "../errors";
import type { AnyWebhookEvent, GenerationStatus } from "../events/event-map";
import type { CallListener } from "../telemetry/index";
import { isThenable } from "../async/thenable";
import { ListenerFailure } from "../errors/listener-failure";

export { ListenerFailure };

type Listener = (this: EventEmitter, arg: unknown) => unknown;

const callPlain: CallListener = (_name, listener, emitter, arg) => listener.call(emitter, arg);

/**
 * Calls the listeners of each name in order, awaiting each one that returns a promise. While
 * every listener is synchronous nothing is awaited, so the common case costs no microtask.
 * Returns `undefined` when it finished synchronously, else a promise; a failure is thrown (or
 * rejected) as a `ListenerFailure` and stops the listeners after it, so they run once, on the retry.
 *
 * `rawListeners` keeps `once` wrappers, so calling them removes the listener as `emit` would.
 */
export function callListeners(
  emitter: EventEmitter,
  names: readonly string[],
  arg: unknown,
  call: CallListener = callPlain,
): Promise<void> | undefined {
  for (let n = 0; n < names.length; n++) {
    const name = names[n] as string;
    if (emitter.listenerCount(name) === 0) continue;
    const listeners = emitter.rawListeners(name) as Listener[];
    for (let i = 0; i < listeners.length; i++) {
      let result: unknown;
      try {
        result = call(name, listeners[i] as Listener, emitter, arg);
      } catch (err) {
        throw new ListenerFailure(err, name);
      }
      if (isThenable(result)) return continueAsync({ emitter, names, arg, call }, n, listeners, i, result);
    }
  }
  return undefined;
}

/** What a run of the listeners shares between its synchronous start and its asynchronous rest. */
interface ListenerRun {
  emitter: EventEmitter;
  names: readonly string[];
  arg: unknown;
  call: CallListener;
}

async function continueAsync(
  { emitter, names, arg, call }: ListenerRun,
  nameIndex: number,
  started: Listener[],
  listenerIndex: number,
  pending: PromiseLike<unknown>,
): Promise<void> {
  try {
    await pending;
  } catch (err) {
    throw new ListenerFailure(err, names[nameIndex] as string);
  }
  // Go on with the copy taken before the await: a `once` listener has removed itself since.
  for (let n = nameIndex; n < names.length; n++) {
    const name = names[n] as string;
    const listeners = n === nameIndex ? started.slice(listenerIndex + 1) : (emitter.rawListeners(name) as Listener[]);
    for (const listener of listeners) {
      try {
        await call(name, listener, emitter, arg);
      } catch (err) {
        throw new ListenerFailure(err, name);
      }
    }
  }
}

/** The `generation.*` event of each status, built once. */
const GENERATION_EVENTS: Record<GenerationStatus, string> = {
  queued: "generation.queued",
  processing: "generation.processing",
  progress: "generation.progress",
  completed: "generation.completed",
  failed: "generation.failed",
  unknown: "generation.unknown",
};

/**
 * Step 8: the events of one delivery, in the README's order, each listener awaited where it
 * returns a promise. A delivery that does not move its generation forward gets `generation.stale`
 * instead of `generation.<status>` and `generation`. `undefined` when every listener returned synchronously; throws or rejects a
 * `ListenerFailure`.
 */
export function emitEvent(
  emitter: EventEmitter,
  event: AnyWebhookEvent,
  movedForward: boolean,
  call?: CallListener,
): Promise<void> | undefined {
  const names = movedForward
    ? [event.name, event.provider, GENERATION_EVENTS[event.generation.status], "generation", "*"]
    : [event.name, event.provider, "generation.stale", "*"];
  return callListeners(emitter, names, event, call);
}

/** The `error` event's argument for what a run of the listeners threw. */
export function toHandlerError(failure: unknown, event: AnyWebhookEvent): WebhookHandlerError {
  if (failure instanceof ListenerFailure) return new WebhookHandlerError(failure.cause, event, failure.eventName);
  return new WebhookHandlerError(failure, event);
}
