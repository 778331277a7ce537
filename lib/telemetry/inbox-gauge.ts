import type { Attributes, Meter, ObservableResult } from "@opentelemetry/api";
import type { DeliveryStatus } from "../inbox/inbox";
import { ATTR, METRIC } from "./names";

export type ReadCounts = () => Promise<Record<DeliveryStatus, number>>;

/** Two readers (or two scrapes) within this long share one read of the inbox. */
const FRESH_MS = 1000;

/**
 * The inbox's deliveries by status, read from the inbox only when a metric reader collects (one
 * round trip to Redis), never on a delivery's path. Additive counts of items in a state are an
 * UpDownCounter by the conventions (`messaging`'s and `system.process.count` alike); Prometheus
 * shows it as a gauge. Each point carries the inbox's `queue` attributes. Returns the function that
 * stops the observation.
 */
export function watchInbox(meter: Meter, readCounts: ReadCounts, queue: Attributes): () => void {
  const gauge = meter.createObservableUpDownCounter(METRIC.inboxDeliveries, {
    unit: "{delivery}",
    description: "Deliveries in the inbox by status: queued, active, retrying, completed, dead.",
  });
  let last: { at: number; counts: Promise<Record<DeliveryStatus, number> | undefined> } | undefined;
  const read = () => {
    if (!last || performance.now() - last.at > FRESH_MS) {
      // Redis away: the gauge says nothing rather than zero, and the collection goes on.
      last = { at: performance.now(), counts: readCounts().catch(() => undefined) };
    }
    return last.counts;
  };
  const observe = async (result: ObservableResult) => {
    const counts = await read();
    if (!counts) return;
    for (const [state, value] of Object.entries(counts)) result.observe(value, { ...queue, [ATTR.inboxState]: state });
  };
  gauge.addCallback(observe);
  return () => gauge.removeCallback(observe);
}
