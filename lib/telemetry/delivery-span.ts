import { context, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { WebhookError } from "../errors";
import type { DeliveryLog } from "../pipeline/report";
import { ATTR } from "./names";
import type { Telemetry } from "./telemetry";
import { toTraceFields, type TraceFields } from "./trace-context";

/**
 * The span of one delivery at the edge, from its first byte's processing (`startedAt`, a
 * `performance.now()`) to its answer. A child of whatever span is active, such as the HTTP
 * server span of the host's instrumentation. Only ids and words go on it: no header, no body.
 */
export function startDeliverySpan(telemetry: Telemetry, provider: string, startedAt: number): Span {
  return telemetry.tracer.startSpan(`webhook receive ${provider}`, {
    startTime: performance.timeOrigin + startedAt,
    attributes: { [ATTR.provider]: provider },
  });
}

/** Runs `fn(arg)` with the delivery's span active, so that its listeners' spans are its children. */
export function withSpan<A, R>(span: Span, fn: (arg: A) => R, arg: A): R {
  return context.with(trace.setSpan(context.active(), span), fn, undefined, arg);
}

/**
 * Records a delivery's answer, as its log line has it: the span's last attributes and status, the
 * count and the duration. A refusal before the delivery's span began (the checks failed) gets a
 * span of its own here, started when the delivery was.
 */
export function recordDelivery(telemetry: Telemetry, line: DeliveryLog, span?: Span, generationId?: string): void {
  const attributes: Attributes = { [ATTR.provider]: line.provider, [ATTR.outcome]: line.outcome };
  // A refusal's word (`auth.failed`), or the outcome that was not an answer the provider wanted.
  const error = line.reason ?? (line.status >= 400 ? line.outcome : undefined);
  if (error) attributes[ATTR.errorType] = error;
  telemetry.deliveries.add(1, attributes);
  telemetry.deliveryDuration.record(line.durationMs / 1000, attributes);

  const ended = span ?? startDeliverySpan(telemetry, line.provider, performance.now() - line.durationMs);
  if (!ended.isRecording()) return ended.end();
  ended.setAttributes(attributes);
  ended.setAttribute(ATTR.httpStatus, line.status);
  if (line.deliveryId !== undefined) ended.setAttribute(ATTR.deliveryId, line.deliveryId);
  if (line.event !== undefined) {
    ended.setAttribute(ATTR.eventName, line.event);
    ended.updateName(`webhook receive ${line.event}`);
  }
  if (generationId !== undefined) ended.setAttribute(ATTR.generationId, generationId);
  if (line.status >= 400) ended.setStatus({ code: SpanStatusCode.ERROR, message: error });
  ended.end();
}

/**
 * A 404 this package answered for no provider: counted and spanned by its outcome and error alone.
 * No provider, there being none, and never the path or anything else of the request: the sender
 * chooses them, so they are unbounded, and a path may carry a token.
 */
export function recordNotFound(telemetry: Telemetry, error: WebhookError, startedAt: number): void {
  const attributes: Attributes = { [ATTR.outcome]: "not-found", [ATTR.errorType]: error.code };
  telemetry.deliveries.add(1, attributes);
  telemetry.deliveryDuration.record((performance.now() - startedAt) / 1000, attributes);
  const span = telemetry.tracer.startSpan("webhook receive", {
    startTime: performance.timeOrigin + startedAt,
    attributes: { ...attributes, [ATTR.httpStatus]: error.status },
  });
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.code });
  span.end();
}

/** The trace context to store with a delivery, for the worker's span to link to. */
export function traceFieldsOf(span: Span | undefined): TraceFields | undefined {
  return span && toTraceFields(span.spanContext());
}
