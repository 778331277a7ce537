import type { EventEmitter } from "node:events";
import { WebhookError, WebhookHandlerError } from "../errors";
import type { AnyWebhookEvent } from "../events";
import type { ResolvedOptions, ResolvedProvider } from "../options";
import { problemAnswer, providerAnswer, type WebhookResponse } from "./answer";
import { authenticate } from "./authenticate";
import { checkContentType } from "./content-type";
import { claimDelivery, settleDelivery } from "./dedupe";
import { dispatch, ListenerFailure } from "./dispatch";
import type { HeadersInput, QueryInput } from "./headers";
import { logDelivery, reportDuplicate, reportError, reportInvalid, type DeliveryOutcome } from "./notify";
import { parseJson } from "./parse";
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
  const handling = handle(state, config, event);
  state.pending.add(handling);
  try {
    const { answer, outcome } = await handling;
    const line = { provider: config.name, deliveryId: event.id, event: event.name, outcome, status: answer.status };
    logDelivery(state.options.logger, { ...line, durationMs: elapsedMs(startedAt) });
    return answer;
  } finally {
    state.pending.delete(handling);
  }
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

/** Steps 7 to 9: dedupe, emit, answer. */
async function handle(state: ReceiverState, config: ResolvedProvider, event: AnyWebhookEvent): Promise<Handled> {
  const { logger, handlerTimeoutMs } = state.options;
  let { store } = state.options;
  const key = `${config.name}:${event.id}`;
  const handled = (outcome: DeliveryOutcome, status?: number): Handled => ({ answer: providerAnswer(config.provider.answer, status), outcome });
  const failed = (outcome: DeliveryOutcome, error: WebhookError): Handled => ({ answer: problemAnswer(error), outcome });

  if (store) {
    let claim;
    try {
      claim = await claimDelivery(store, key, logger, state.options.dedupeFailOpen);
    } catch (err) {
      if (err instanceof WebhookError) return failed("store-unavailable", err);
      throw err;
    }
    if (claim === "done") {
      reportDuplicate(state.emitter, logger, event);
      return handled("duplicate");
    }
    if (claim === "in-flight") {
      const retryAfter = String(Math.max(1, Math.ceil(Math.min(handlerTimeoutMs, 60_000) / 1000)));
      return failed("in-flight", new WebhookError("delivery.in-flight", { headers: { "retry-after": retryAfter } }));
    }
    // Nothing was claimed, so there is nothing to complete or release.
    if (claim === "unavailable") store = undefined;
  }

  const names = [event.name, config.name, `generation.${event.generation.status}`, "generation", "*"];
  const settle = async (failure: unknown): Promise<void> => {
    if (store) await settleDelivery(store, key, failure === undefined, logger);
    if (failure !== undefined) reportError(state.emitter, logger, toHandlerError(failure, event));
  };

  let running: Promise<void> | undefined;
  try {
    running = dispatch(state.emitter, names, event);
  } catch (failure) {
    await settle(failure);
    return failed("failed", new WebhookError("handler.failed"));
  }
  if (!running) {
    await settle(undefined);
    return handled("handled");
  }

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
    return handled("timed-out", 202);
  }
  await settle(outcome.failure);
  return outcome.failure === undefined ? handled("handled") : failed("failed", new WebhookError("handler.failed"));
}

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
