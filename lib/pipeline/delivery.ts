import type { Span } from "@opentelemetry/api";
import type { AnyWebhookEvent } from "../events/event-map";
import type { WebhookResponse } from "../http/response";
import type { Receiver, ResolvedProvider } from "./receiver";
import type { DeliveryOutcome } from "./report";

/** One delivery past its checks: what every later stage reads, passed as one object. */
export interface Delivery {
  readonly receiver: Receiver;
  readonly provider: ResolvedProvider;
  /** `performance.now()` when the pipeline took it, for the logged duration. */
  readonly startedAt: number;
  readonly event: AnyWebhookEvent;
  /** `<provider>:<delivery id>`: the key it is deduplicated and stored under. */
  readonly key: string;
  /** The platform's `waitUntil`, given the listeners that outlive the answer. */
  readonly waitUntil?: (work: Promise<unknown>) => void;
  /** Its OpenTelemetry span, ended with its answer; absent without an SDK. */
  readonly span: Span | undefined;
}

/** What the pipeline answers for a delivery, and the word logged for it. */
export interface Verdict {
  answer: WebhookResponse;
  outcome: DeliveryOutcome;
}

/** Milliseconds since `startedAt`, to the microsecond. */
export function elapsedMs(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 1000) / 1000;
}
