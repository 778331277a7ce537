import { createTraceState, isSpanContextValid, type SpanContext } from "@opentelemetry/api";

/**
 * The W3C trace context (https://www.w3.org/TR/trace-context/) of the edge's span, as it is stored
 * with a delivery in the inbox. Written and read here rather than through the host's propagator:
 * the link must hold whatever propagators the host configured, and these two fields are all it needs.
 */
export type TraceFields = Record<string, string>;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function toTraceFields(context: SpanContext): TraceFields | undefined {
  if (!isSpanContextValid(context)) return undefined;
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, "0");
  const fields: TraceFields = { traceparent: `00-${context.traceId}-${context.spanId}-${flags}` };
  const tracestate = context.traceState?.serialize();
  if (tracestate) fields.tracestate = tracestate;
  return fields;
}

/** The span context stored with a delivery; `undefined` for none, or for fields that are not a trace context. */
export function fromTraceFields(fields: TraceFields | undefined): SpanContext | undefined {
  const match = typeof fields?.traceparent === "string" ? TRACEPARENT.exec(fields.traceparent) : null;
  if (!match) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  const context: SpanContext = { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
  if (typeof fields?.tracestate === "string") context.traceState = createTraceState(fields.tracestate);
  return isSpanContextValid(context) ? context : undefined;
}
