import { WebhookError } from "../errors";
import type { Inbox, StoredDelivery } from "../inbox/inbox";
import { problemAnswer, providerAnswer } from "./answer";
import type { Delivery, Verdict } from "./delivery";
import { reportDuplicate } from "./report";
import { traceFieldsOf } from "../telemetry/index";

/** The provider retries an inbox outage: ask it to wait a little. */
const INBOX_RETRY_AFTER_SECONDS = "10";

/** What the inbox keeps of a delivery: enough for a worker to rebuild its event, nothing secret. */
export function toStoredDelivery(delivery: Delivery): StoredDelivery {
  const { event, key } = delivery;
  const trace = traceFieldsOf(delivery.span);
  return {
    key,
    provider: event.provider,
    id: event.id,
    name: event.name,
    payload: event.payload,
    receivedAt: event.receivedAt.toISOString(),
    ...(event.origin === "reconciled" && { origin: event.origin }),
    ...(trace && { trace }),
  };
}

/**
 * Steps 7 to 9 with an inbox: the delivery is stored, and the provider answered its success only
 * once it is; the listeners run later, in a worker. Never a 2xx for a delivery that is not stored.
 */
export function storeInInbox(delivery: Delivery, inbox: Inbox): Promise<Verdict> {
  const { emitter, options } = delivery.receiver;
  return inbox.enqueue(toStoredDelivery(delivery)).then(
    (result): Verdict => {
      if (result === "duplicate") reportDuplicate(emitter, options.logger, delivery.event);
      return { answer: providerAnswer(delivery.provider.provider.answer), outcome: result === "duplicate" ? "duplicate" : "stored" };
    },
    (err: unknown): Verdict => {
      options.logger.error(
        { err, key: delivery.key },
        "imagegen-webhooks: the inbox could not store a delivery; answering 503 so that the provider retries",
      );
      const error = new WebhookError("inbox.unavailable", { headers: { "retry-after": INBOX_RETRY_AFTER_SECONDS } });
      return { answer: problemAnswer(error), outcome: "store-unavailable" };
    },
  );
}
