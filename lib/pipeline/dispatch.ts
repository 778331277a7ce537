import type { Advance } from "../stores/store";
import { isThenable } from "../async/thenable";
import { completeGeneration, GenerationNotCompleted } from "./complete";
import { ListenerTimeoutError, settleWithin, TIMED_OUT } from "./deadline";
import type { Claim, SettleClaim } from "./dedupe";
import type { Delivery } from "./delivery";
import { abortEvent } from "./event";
import { ImagesNotKept, keepAndEmit, TrackedNotRecorded } from "./keep-images";
import { toHandlerError } from "./listeners";
import { track } from "./receiver";
import { reportError } from "./report";
import { recordTracked, trackGeneration } from "./track";

/** What became of a delivery's work, for its way of handling it to answer, return or throw. */
export type Dispatched =
  /** The store already holds its key: done, or being handled elsewhere. */
  | { readonly outcome: "duplicate" | "in-flight" }
  /** Its listeners are done (`moved`: it moved its generation forward). */
  | { readonly outcome: "handled"; readonly moved: boolean }
  /** Its listeners outlived `answerWithinMs`, and go on. */
  | { readonly outcome: "timed-out" }
  /**
   * A store failed (the claim's, the generations', the images'), or the provider's API did not
   * complete the generation (`api`): nothing is the listeners' fault; the key is released.
   */
  | { readonly outcome: "unavailable"; readonly store: "dedupe" | "generations" | "images" | "api"; readonly error: unknown }
  /** A listener failed: reported through `error`, and the key released. */
  | { readonly outcome: "failed"; readonly failure: unknown };

/** What differs between the ways a delivery is handled: in the request, in a worker, read back from the API. */
export interface DispatchPolicy<R> {
  /** Claims the delivery's key before its work; throws (or rejects) when the store fails. */
  readonly claim: (delivery: Delivery) => Claim | Promise<Claim>;
  /** The generation store failing: emit unordered rather than fail (`dedupeFailOpen`). */
  readonly failOpen: boolean;
  /** Whether a delivery that does not move its generation forward fires `generation.stale`, or nothing. */
  readonly fireStale: boolean;
  /** Whether an image failure a later attempt may not meet fails the work (`unavailable`), for the inbox's retry. */
  readonly retryTransient: boolean;
  /** How long to wait for listeners that return a promise before `timed-out`; absent: until they are done. */
  readonly answerWithinMs?: number;
  /**
   * Past `answerWithinMs` the run fails, its `event.signal` aborted and its listeners left to
   * themselves, rather than go on after a `timed-out` answer: a worker's slot is not held forever.
   */
  readonly failPastDeadline?: boolean;
  /** The answer, the result, or the throw, for what became of the work. */
  readonly conclude: (dispatched: Dispatched) => R;
}

const DUPLICATE: Dispatched = { outcome: "duplicate" };
const IN_FLIGHT: Dispatched = { outcome: "in-flight" };
const TIMED_OUT_OUTCOME: Dispatched = { outcome: "timed-out" };
const HANDLED: Dispatched = { outcome: "handled", moved: true };
const HANDLED_STALE: Dispatched = { outcome: "handled", moved: false };

/**
 * The work after the checks, for every way a delivery is handled: claim its key, move its
 * generation forward, keep its images, fire its events, settle its key. Synchronous while the
 * stores and the listeners are: the memory stores and plain listeners cost no promise and no
 * microtask; a promise from any of them is awaited where it appears.
 */
export function dispatch<R>(delivery: Delivery, policy: DispatchPolicy<R>): R | Promise<R> {
  const dispatched = step(
    () => policy.claim(delivery),
    (claim) => afterClaim(delivery, policy, claim),
    (error): Dispatched => ({ outcome: "unavailable", store: "dedupe", error }),
  );
  return isThenable(dispatched) ? dispatched.then(policy.conclude) : policy.conclude(dispatched);
}

/** `next` of what `start` gives, at once when it is not a promise; `failed` where `start` throws or rejects. */
function step<T, R>(
  start: () => T | PromiseLike<T>,
  next: (value: T) => R | Promise<R>,
  failed: (err: unknown) => R | Promise<R>,
): R | Promise<R> {
  let started: T | PromiseLike<T>;
  try {
    started = start();
  } catch (err) {
    return failed(err);
  }
  return isThenable<T>(started) ? Promise.resolve(started).then(next, failed) : next(started);
}

/** Then `next`, at once when `settled` is not a promise. */
function after<T>(settled: void | Promise<void>, next: () => T): T | Promise<T> {
  return settled ? settled.then(next) : next();
}

/** The generation's order first (`generation.stale` or a move forward), then the images and the listeners. */
function afterClaim<R>(delivery: Delivery, policy: DispatchPolicy<R>, claim: Claim): Dispatched | Promise<Dispatched> {
  if (claim === "done") return DUPLICATE;
  if (claim === "in-flight") return IN_FLIGHT;
  const { settle } = claim;
  // No generation store and no reconciler: there is nothing to order, record or note, and every
  // delivery moves its generation forward (what trackGeneration would answer), so no stage is run for it.
  const { receiver } = delivery;
  if (!receiver.options.generations && !receiver.openGenerations) return emit(delivery, policy, settle, true, false);
  return step<Advance, Dispatched>(
    () => trackGeneration(delivery.receiver, delivery.event, delivery.key),
    (advance) => emit(delivery, policy, settle, advance.moved, advance.moved && advance.tracked !== undefined),
    (error) => trackingFailed(delivery, policy, settle, error),
  );
}

/**
 * The generation store failed: nothing is emitted, and the claim is released for a retry. Under
 * `dedupeFailOpen` the delivery goes on unordered instead, as it goes on undeduplicated.
 */
function trackingFailed<R>(
  delivery: Delivery,
  policy: DispatchPolicy<R>,
  settle: SettleClaim,
  error: unknown,
): Dispatched | Promise<Dispatched> {
  if (!policy.failOpen) return after(settle(false), (): Dispatched => ({ outcome: "unavailable", store: "generations", error }));
  delivery.receiver.options.logger.warn(
    { err: error, key: delivery.key },
    "imagegen-webhooks: the generation store failed; emitting without ordering (dedupeFailOpen)",
  );
  return emit(delivery, policy, settle, true, false);
}

function emit<R>(
  delivery: Delivery,
  policy: DispatchPolicy<R>,
  settle: SettleClaim,
  movedForward: boolean,
  tracked: boolean,
): Dispatched | Promise<Dispatched> {
  if (!movedForward && !policy.fireStale) return after(settle(true), () => HANDLED_STALE);
  let running: Promise<void> | undefined;
  try {
    const { retryTransient } = policy;
    const emitting = tracked
      ? { movedForward, retryTransient, recordTracked: () => recordTracked(delivery.receiver, delivery.event) }
      : { movedForward, retryTransient };
    // A generation its webhook only says ended is read back first (OpenAI's): its images come from the API.
    const completing = movedForward ? completeGeneration(delivery) : undefined;
    running = completing ? completing.then(() => keepAndEmit(delivery, emitting)) : keepAndEmit(delivery, emitting);
  } catch (failed) {
    return after(concludeRun(delivery, settle, failed), () => outcomeOf(movedForward, failed));
  }
  if (!running) {
    // Every listener returned synchronously: the claim completed, and no closure made for it.
    const handled = movedForward ? HANDLED : HANDLED_STALE;
    const settled = settle(true);
    return settled ? settled.then(() => handled) : handled;
  }
  return awaitListeners(delivery, policy, running, {
    conclude: (failed) => concludeRun(delivery, settle, failed),
    outcome: (failed) => outcomeOf(movedForward, failed),
  });
}

/** Settles the claim, then reports a listener's failure through `error`. */
function concludeRun(delivery: Delivery, settle: SettleClaim, failed: unknown): void | Promise<void> {
  const settled = settle(failed === undefined);
  if (
    failed === undefined ||
    failed instanceof ImagesNotKept ||
    failed instanceof TrackedNotRecorded ||
    failed instanceof GenerationNotCompleted
  )
    return settled;
  const { emitter, options } = delivery.receiver;
  return after(settled, () => reportError(emitter, options.logger, toHandlerError(failed, delivery.event)));
}

/** What became of a run of the listeners that ended with `failed` (`undefined`: they all succeeded). */
function outcomeOf(movedForward: boolean, failed: unknown): Dispatched {
  if (failed === undefined) return movedForward ? HANDLED : HANDLED_STALE;
  if (failed instanceof ImagesNotKept) return { outcome: "unavailable", store: "images", error: failed.cause };
  if (failed instanceof TrackedNotRecorded) return { outcome: "unavailable", store: "generations", error: failed.cause };
  if (failed instanceof GenerationNotCompleted) return { outcome: "unavailable", store: "api", error: failed.cause };
  return { outcome: "failed", failure: failed };
}

/** How a run of the listeners ends: its key settled and its failure reported, then what became of it. */
interface Ending {
  conclude: (failed: unknown) => void | Promise<void>;
  outcome: (failed: unknown) => Dispatched;
}

/**
 * Listeners that returned a promise: waited for, up to `answerWithinMs`. Meanwhile the delivery is
 * among the receiver's `runs`, which `close()` names and aborts when it stops waiting.
 */
async function awaitListeners<R>(
  delivery: Delivery,
  { answerWithinMs = Infinity, failPastDeadline }: DispatchPolicy<R>,
  running: Promise<void>,
  { conclude, outcome }: Ending,
): Promise<Dispatched> {
  const { runs } = delivery.receiver;
  runs.add(delivery);
  const settled = await settleWithin(running, answerWithinMs);
  if (settled === TIMED_OUT && failPastDeadline) {
    runs.delete(delivery);
    // Whatever the listeners do later is theirs alone: this attempt has failed, and is retried.
    const failure = new ListenerTimeoutError(answerWithinMs);
    abortEvent(delivery.event, failure);
    await conclude(failure);
    return outcome(failure);
  }
  if (settled === TIMED_OUT) {
    // The caller answers now; the listeners go on, and a late failure still releases the key.
    const rest = track(
      delivery.receiver,
      running
        .then(
          () => conclude(undefined),
          (failed: unknown) => conclude(failed),
        )
        .finally(() => runs.delete(delivery)),
    );
    // On serverless the work after the answer lives only as long as the platform is told to wait for it.
    delivery.waitUntil?.(rest);
    return TIMED_OUT_OUTCOME;
  }
  runs.delete(delivery);
  await conclude(settled.failure);
  return outcome(settled.failure);
}
