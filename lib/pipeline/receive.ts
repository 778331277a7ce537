import { WebhookError } from "../errors";
import type { WebhookResponse } from "../http/response";
import { isThenable } from "../async/thenable";
import { checkBody, type BodyInput, type Checked } from "./check";
import { elapsedMs, type Delivery, type Verdict } from "./delivery";
import { buildEvent, identify } from "./event";
import { handleInProcess } from "./handle-in-process";
import { track, type Receiver, type ResolvedProvider } from "./receiver";
import { notFound, refuse, turnAway } from "./refuse";
import { logDelivery } from "./report";
import { silentLogger } from "../logging/logger";
import { checkSourceIp } from "./source-ip";
import { storeInInbox } from "./store-in-inbox";
import { recordDelivery, startDeliverySpan, withSpan } from "../telemetry/index";

/** One delivery as `receive()` takes it, from any framework or queue. */
export interface ReceiveInput extends BodyInput {
  /** The provider's name, e.g. `crazyhorse`. */
  provider: string;
  /** The sender's address, checked against the provider's `allowedIps` (the middleware passes Express's `req.ip`). */
  ip?: string;
}

/** What an adapter knows of a request before its body: the method, and the sender's address where it matters. */
export interface RequestLine {
  method: string | undefined;
  ip?: string | undefined;
}

const CLOSING_RETRY_AFTER_SECONDS = "5";

/** Logged and recorded, but no `invalid` event: nothing is wrong with the delivery, and the provider retries it. */
function closingAnswer(receiver: Receiver, provider: string, startedAt?: number): WebhookResponse {
  const error = new WebhookError("receiver.closing", { headers: { "retry-after": CLOSING_RETRY_AFTER_SECONDS } });
  return turnAway(receiver, { provider, outcome: "closing", error, startedAt });
}

/**
 * Step 1, and the sender's address, before the body is read: an answer refuses the request;
 * `undefined` lets the adapter read the body and call `receiveBody`.
 */
export function admit(receiver: Receiver, provider: ResolvedProvider, request: RequestLine): WebhookResponse | undefined {
  if (request.method !== "POST") {
    return refuse(receiver, provider.name, new WebhookError("method.not-allowed", { headers: { allow: "POST" } }));
  }
  if (receiver.closing) return closingAnswer(receiver, provider.name);
  try {
    checkSourceIp(provider.allowedIps, request.ip);
  } catch (err) {
    return refuse(receiver, provider.name, err as WebhookError);
  }
  return undefined;
}

/** The whole pipeline of one delivery, without HTTP: checks, dedupe, emit (or store), answer. */
export function receive(receiver: Receiver, input: ReceiveInput): WebhookResponse | Promise<WebhookResponse> {
  const provider = receiver.options.providers.get(input.provider);
  if (!provider) return notFound(receiver);
  return admit(receiver, provider, { method: "POST", ip: input.ip }) ?? receiveBody(receiver, provider, input);
}

/**
 * Steps 2 to 9 for an admitted request. The answer itself when the store and the listeners
 * answered synchronously, so that an HTTP adapter writes it in the tick of the body's last byte;
 * a promise otherwise. Throws only on a programming error (a body of the wrong type).
 */
export function receiveBody(receiver: Receiver, provider: ResolvedProvider, input: BodyInput): WebhookResponse | Promise<WebhookResponse> {
  const startedAt = performance.now();
  if (receiver.closing) return closingAnswer(receiver, provider.name, startedAt);
  let checked: Checked | Promise<Checked>;
  try {
    checked = checkBody(receiver.options, provider, input);
  } catch (err) {
    return refused(receiver, provider, startedAt, err);
  }
  // A promise only where the crypto is (Web Crypto): on Node the checks answer in this tick.
  if (isThenable(checked)) {
    return checked.then(
      ({ payload }) => handleChecked(receiver, provider, input, startedAt, payload),
      (err: unknown) => refused(receiver, provider, startedAt, err),
    );
  }
  return handleChecked(receiver, provider, input, startedAt, checked.payload);
}

/** A check's refusal as its answer; anything else is a programming error, thrown on. */
function refused(receiver: Receiver, provider: ResolvedProvider, startedAt: number, err: unknown): WebhookResponse {
  if (err instanceof WebhookError) return refuse(receiver, provider.name, err, startedAt);
  throw err;
}

/** Steps 7 to 9 for a delivery that passed its checks: dedupe, emit (or store), answer. */
function handleChecked(
  receiver: Receiver,
  provider: ResolvedProvider,
  input: BodyInput,
  startedAt: number,
  payload: unknown,
): WebhookResponse | Promise<WebhookResponse> {
  const identity = identify(provider, payload, input.headers);
  const { telemetry } = receiver;
  const delivery: Delivery = {
    receiver,
    provider,
    startedAt,
    event: buildEvent(provider, { identity, payload, receivedAt: new Date() }),
    key: `${provider.name}:${identity.id}`,
    span: telemetry && startDeliverySpan(telemetry, provider.name, startedAt),
    ...(input.waitUntil && { waitUntil: input.waitUntil }),
  };
  const verdict = delivery.span ? withSpan(delivery.span, storeOrHandle, delivery) : storeOrHandle(delivery);
  if (!isThenable(verdict)) return conclude(delivery, verdict);
  return track(receiver, verdict).then((settled) => conclude(delivery, settled));
}

function storeOrHandle(delivery: Delivery): Verdict | Promise<Verdict> {
  const { inbox } = delivery.receiver.options;
  return inbox ? storeInInbox(delivery, inbox) : handleInProcess(delivery);
}

/** Logs the delivery's one line, records it where telemetry is on, and gives its answer. */
function conclude(delivery: Delivery, { answer, outcome }: Verdict): WebhookResponse {
  const { event, receiver } = delivery;
  // Nothing reads the line without a logger or telemetry: it is not made.
  if (receiver.options.logger === silentLogger && !receiver.telemetry) return answer;
  const line = {
    provider: delivery.provider.name,
    deliveryId: event.id,
    event: event.name,
    outcome,
    status: answer.status,
    durationMs: elapsedMs(delivery.startedAt),
  };
  logDelivery(receiver.options.logger, line);
  if (receiver.telemetry) recordDelivery(receiver.telemetry, line, delivery.span, event.generation.id);
  return answer;
}
