import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Link } from "@opentelemetry/api";
import type { DeliveryRun, StoredDelivery } from "../inbox/inbox";
import { errorType } from "./listener-span";
import { ATTR } from "./names";
import type { Telemetry } from "./telemetry";
import { fromTraceFields } from "./trace-context";

type RunStored = (stored: StoredDelivery, run: DeliveryRun) => Promise<void>;

/**
 * A worker's run of a stored delivery in a span of its own, linked (not parented: the edge's
 * trace ended with its answer, and a retry is a new run) to the edge's span through the trace
 * context stored with the delivery.
 */
export function runInSpan(telemetry: Telemetry, run: RunStored): RunStored {
  return async function runStoredInSpan(stored, info) {
    const edge = fromTraceFields(stored.trace);
    const links: Link[] = edge ? [{ context: edge }] : [];
    const span = telemetry.tracer.startSpan(`webhook process ${stored.name}`, {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        ...telemetry.queue,
        [ATTR.provider]: stored.provider,
        [ATTR.eventName]: stored.name,
        [ATTR.deliveryId]: stored.id,
        [ATTR.attempt]: info.attempt,
        [ATTR.replayed]: info.replayed,
      },
    });
    const startedAt = performance.now();
    const attributes: Attributes = { ...telemetry.queue, [ATTR.provider]: stored.provider, [ATTR.outcome]: "handled" };
    try {
      await context.with(trace.setSpan(context.active(), span), run, undefined, stored, info);
    } catch (err) {
      attributes[ATTR.outcome] = "failed";
      attributes[ATTR.errorType] = errorType(err);
      span.setStatus({ code: SpanStatusCode.ERROR, message: info.lastAttempt ? "failed on its last attempt" : "failed; to be retried" });
      throw err;
    } finally {
      span.setAttributes(attributes);
      span.end();
      telemetry.runs.add(1, attributes);
      telemetry.runDuration.record((performance.now() - startedAt) / 1000, attributes);
    }
  };
}

/** A stored delivery is dead: its last attempt failed. */
export function recordDead(telemetry: Telemetry, provider: string): void {
  telemetry.inboxDead.add(1, { ...telemetry.queue, [ATTR.provider]: provider });
}
