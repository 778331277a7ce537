import { context, SpanStatusCode, trace, type Counter, type Histogram, type Span, type Tracer } from "@opentelemetry/api";
import type { EventEmitter } from "node:events";
import { isThenable } from "../async/thenable";
import { ATTR } from "./names";

type Listener = (this: EventEmitter, arg: unknown) => unknown;

/** How the pipeline calls one listener of the event `name`: plainly, or in a span of its own. */
export type CallListener = (name: string, listener: Listener, emitter: EventEmitter, arg: unknown) => unknown;

/**
 * Each listener in a child span of the delivery's, made the active one while it runs, so that the
 * listener's own spans (an HTTP call, a query) nest under it. A promise is followed to its end.
 */
export function callListenerTraced(tracer: Tracer, duration: Histogram, failures: Counter): CallListener {
  function settle(span: Span, name: string, startedAt: number, failed: boolean, err?: unknown): void {
    const attributes: Record<string, string> = { [ATTR.eventName]: name };
    if (failed) {
      attributes[ATTR.errorType] = errorType(err);
      // The listener's own error, as OpenTelemetry records exceptions: the host's message, never ours.
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: `a listener of "${name}" failed` });
      span.setAttribute(ATTR.errorType, attributes[ATTR.errorType] as string);
      failures.add(1, attributes);
    }
    span.end();
    duration.record((performance.now() - startedAt) / 1000, attributes);
  }

  return function callListenerInSpan(name, listener, emitter, arg) {
    const parent = context.active();
    const span = tracer.startSpan(`webhook listener ${name}`, { attributes: { [ATTR.eventName]: name } }, parent);
    const startedAt = performance.now();
    let result: unknown;
    try {
      result = context.with(trace.setSpan(parent, span), listener, emitter, arg);
    } catch (err) {
      settle(span, name, startedAt, true, err);
      throw err;
    }
    if (!isThenable(result)) {
      settle(span, name, startedAt, false);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        settle(span, name, startedAt, false);
        return value;
      },
      (err: unknown) => {
        settle(span, name, startedAt, true, err);
        throw err;
      },
    );
  };
}

/** `error.type` of a thrown value: its class's name, as the conventions ask. */
export function errorType(err: unknown): string {
  return err instanceof Error ? err.name || "Error" : "_OTHER";
}
