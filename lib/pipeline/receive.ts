import type { EventEmitter } from "node:events";
import { WebhookError, WebhookHandlerError } from "../errors";
import type { AnyWebhookEvent, GenerationStatus } from "../events";
import type { DedupeStore } from "../stores/store";
import type { ResolvedOptions, ResolvedProvider } from "../options";
import { problemAnswer, providerAnswer, type WebhookResponse } from "./answer";
import { authenticate } from "./authenticate";
import { checkContentType } from "./content-type";
import { claimDelivery, settleDelivery, type ClaimOutcome } from "./dedupe";
import { dispatch, ListenerFailure } from "./dispatch";
import type { HeadersInput, QueryInput } from "./headers";
import { logDelivery, reportDuplicate, reportError, reportInvalid, type DeliveryOutcome } from "./notify";
import { parseJson } from "./parse";
import { isThenable } from "./thenable";
import { checkSourceIp } from "./source-ip";

/** One delivery as `receive()` takes it, from any framework or queue. */
export interface ReceiveInput {
  /** The provider's name, e.g. `crazyhorse`. */
  provider: string;
  headers?: HeadersInput;
  /** The body exactly as received. */
  rawBody: Uint8Array | string;
  /** The query string or its parameters (where the `token` may be). */
  query?: QueryInput;
  /** The sender's address, checked against the provider's `allowedIps` (the middleware passes Express's `req.ip`). */
  ip?: string;
}

/** Everything one receiver shares between its deliveries. */
export interface ReceiverState {
  readonly options: ResolvedOptions;
  readonly emitter: EventEmitter;
  closing: boolean;
  /** Deliveries past their checks and not yet settled, listeners running after a `202` included. */
  readonly pending: Set<Promise<unknown>>;
}

const CLOSING_RETRY_AFTER_SECONDS = "5";

/** Answers a refusal, logs it, and tells the `invalid` listeners why (no secret, no body). */
export function refuse(state: ReceiverState, provider: string, error: WebhookError, startedAt = performance.now()): WebhookResponse {
  const { status, code: reason } = error;
  logDelivery(state.options.logger, { provider, outcome: "refused", status, reason, durationMs: elapsedMs(startedAt) });
  reportInvalid(state.emitter, state.options.logger, { provider, status, reason, ...(error.errors && { errors: error.errors }) });
  return problemAnswer(error);
}

function elapsedMs(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}

/** The whole pipeline of one delivery, without HTTP: checks, dedupe, emit, answer. */
export async function receive(state: ReceiverState, input: ReceiveInput): Promise<WebhookResponse> {
  return deliver(state, input);
}

/**
 * `receive()` without its promise where none is needed: the answer itself when the store and the
 * listeners answered synchronously, so that the HTTP adapter writes it in the same tick as the
 * body's last byte. A promise otherwise. May throw where `receive()` would reject.
 */
export function deliver(state: ReceiverState, input: ReceiveInput): WebhookResponse | Promise<WebhookResponse> {
  const startedAt = performance.now();
  const config = state.options.providers.get(input.provider);
  if (!config) return problemAnswer(new WebhookError("route.not-found"));
  if (state.closing) {
    return problemAnswer(new WebhookError("receiver.closing", { headers: { "retry-after": CLOSING_RETRY_AFTER_SECONDS } }));
  }

  let payload: unknown;
  try {
    payload = check(state.options, config, input);
  } catch (err) {
    if (err instanceof WebhookError) return refuse(state, config.name, err, startedAt);
    throw err;
  }

  const event = toEvent(config, payload, input.headers);
  const finish = ({ answer, outcome }: Handled): WebhookResponse => {
    logDelivery(state.options.logger, {
      provider: config.name,
      deliveryId: event.id,
      event: event.name,
      outcome,
      status: answer.status,
      durationMs: elapsedMs(startedAt),
    });
    return answer;
  };
  const handling = handle(state, config, event);
  if (!isThenable(handling)) return finish(handling);
  state.pending.add(handling);
  const forget = () => void state.pending.delete(handling);
  handling.then(forget, forget);
  return handling.then(finish);
}

/** The source address, then steps 2 to 6 of the design, in its order: size, content type, authentication, JSON, schema. */
function check(options: ResolvedOptions, config: ResolvedProvider, input: ReceiveInput): unknown {
  const { rawBody } = input;
  if (typeof rawBody !== "string" && !(rawBody instanceof Uint8Array)) {
    throw new TypeError("receive() takes the body as it was received, in rawBody: a Buffer, a Uint8Array or a string");
  }
  checkSourceIp(config.allowedIps, input.ip);
  const size = typeof rawBody === "string" ? Buffer.byteLength(rawBody) : rawBody.byteLength;
  if (size > options.limit) throw new WebhookError("entity.too.large");
  checkContentType(input.headers);
  authenticate(config.secretDigests, input.headers, input.query);
  config.signature?.verify(input.headers, rawBody);
  const json = parseJson(rawBody);
  config.validate(json);
  return json;
}

function toEvent(config: ResolvedProvider, payload: unknown, headers: HeadersInput | undefined): AnyWebhookEvent {
  const { provider } = config;
  const receivedAt = new Date();
  return {
    id: provider.idempotencyKey(payload, { headers }),
    provider: config.name,
    name: `${config.name}.${provider.eventName(payload)}`,
    payload,
    generation: provider.normalize(payload, { resolveImageUrl: config.resolveImageUrl, receivedAt }),
    receivedAt,
  } as AnyWebhookEvent;
}

interface Handled {
  answer: WebhookResponse;
  outcome: DeliveryOutcome;
}

const handled = (config: ResolvedProvider, outcome: DeliveryOutcome, status?: number): Handled => ({
  answer: providerAnswer(config.provider.answer, status),
  outcome,
});
const failed = (outcome: DeliveryOutcome, error: WebhookError): Handled => ({ answer: problemAnswer(error), outcome });

/** Then `next`, at once when `settled` is not a promise. */
function after<T>(settled: void | Promise<void>, next: () => T): T | Promise<T> {
  return settled ? settled.then(next) : next();
}

/**
 * Steps 7 to 9: dedupe, emit, answer. Synchronous while the store and the listeners are: the
 * memory store and plain listeners cost no promise and no microtask (they were measured a share
 * of every delivery); a promise from either one is awaited where it appears.
 */
function handle(state: ReceiverState, config: ResolvedProvider, event: AnyWebhookEvent): Handled | Promise<Handled> {
  const { logger, store, dedupeFailOpen } = state.options;
  const key = `${config.name}:${event.id}`;
  if (!store) return emit(state, config, event, undefined, key);
  let claim: ClaimOutcome | Promise<ClaimOutcome>;
  try {
    claim = claimDelivery(store, key, logger, dedupeFailOpen);
  } catch (err) {
    return storeRefused(err);
  }
  if (isThenable(claim)) return claim.then((outcome) => afterClaim(state, config, event, store, key, outcome), storeRefused);
  return afterClaim(state, config, event, store, key, claim);
}

function storeRefused(err: unknown): Handled {
  if (err instanceof WebhookError) return failed("store-unavailable", err);
  throw err;
}

function afterClaim(
  state: ReceiverState,
  config: ResolvedProvider,
  event: AnyWebhookEvent,
  store: DedupeStore,
  key: string,
  claim: ClaimOutcome,
): Handled | Promise<Handled> {
  if (claim === "done") {
    reportDuplicate(state.emitter, state.options.logger, event);
    return handled(config, "duplicate");
  }
  if (claim === "in-flight") {
    const retryAfter = String(Math.max(1, Math.ceil(Math.min(state.options.handlerTimeoutMs, 60_000) / 1000)));
    return failed("in-flight", new WebhookError("delivery.in-flight", { headers: { "retry-after": retryAfter } }));
  }
  // Nothing was claimed, so there is nothing to complete or release.
  return emit(state, config, event, claim === "unavailable" ? undefined : store, key);
}

function emit(
  state: ReceiverState,
  config: ResolvedProvider,
  event: AnyWebhookEvent,
  store: DedupeStore | undefined,
  key: string,
): Handled | Promise<Handled> {
  const { logger, handlerTimeoutMs } = state.options;
  const names = [event.name, config.name, GENERATION_EVENTS[event.generation.status], "generation", "*"];
  const settle = (failure: unknown): void | Promise<void> => {
    const settled = store ? settleDelivery(store, key, failure === undefined, logger) : undefined;
    if (failure === undefined) return settled;
    return after(settled, () => reportError(state.emitter, logger, toHandlerError(failure, event)));
  };

  let running: Promise<void> | undefined;
  try {
    running = dispatch(state.emitter, names, event);
  } catch (failure) {
    return after(settle(failure), () => failed("failed", new WebhookError("handler.failed")));
  }
  if (!running) return after(settle(undefined), () => handled(config, "handled"));
  return awaitListeners(state, config, running, handlerTimeoutMs, settle);
}

/** Listeners that returned a promise: the answer waits for them, up to `handlerTimeoutMs`. */
async function awaitListeners(
  state: ReceiverState,
  config: ResolvedProvider,
  running: Promise<void>,
  handlerTimeoutMs: number,
  settle: (failure: unknown) => void | Promise<void>,
): Promise<Handled> {
  const outcome = await settleWithin(running, handlerTimeoutMs);
  if (outcome === TIMED_OUT) {
    // The provider gets its answer now; the listeners go on, and a late failure still releases the key.
    const late = running.then(
      () => settle(undefined),
      (failure: unknown) => settle(failure),
    );
    state.pending.add(late);
    const forget = () => void state.pending.delete(late);
    late.then(forget, forget);
    return handled(config, "timed-out", 202);
  }
  await settle(outcome.failure);
  return outcome.failure === undefined ? handled(config, "handled") : failed("failed", new WebhookError("handler.failed"));
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

function toHandlerError(failure: unknown, event: AnyWebhookEvent): WebhookHandlerError {
  if (failure instanceof ListenerFailure) return new WebhookHandlerError(failure.cause, event, failure.eventName);
  return new WebhookHandlerError(failure, event);
}

const TIMED_OUT = Symbol("timed out");
/** setTimeout fires at once past this; a longer timeout means no timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function settleWithin(running: Promise<void>, ms: number): Promise<{ failure: unknown } | typeof TIMED_OUT> {
  const settled = running.then(
    () => ({ failure: undefined }),
    (failure: unknown) => ({ failure: failure ?? new Error("a listener rejected with no reason") }),
  );
  if (ms > MAX_TIMER_MS) return settled;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, ms, TIMED_OUT);
    timer.unref();
  });
  return Promise.race([settled, timeout]).finally(() => clearTimeout(timer));
}
