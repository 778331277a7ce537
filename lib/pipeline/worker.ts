import type { DeliveryRun, Inbox, InboxWorker, InboxWorkerOptions, StoredDelivery } from "../inbox/inbox";
import { recordDead, runInSpan } from "../telemetry/index";
import type { Receiver } from "./receiver";
import { emitAside } from "./report";
import { runStored, storedDelivery } from "./run-stored";

/**
 * A worker of the receiver's inbox: it runs each stored delivery's listeners, in a span of its own
 * where telemetry is on, and tells the `dead` listeners of each delivery out of attempts.
 */
export function startInboxWorker(receiver: Receiver, inbox: Inbox, options: InboxWorkerOptions): Promise<InboxWorker> {
  const { telemetry } = receiver;
  const runOne = (stored: StoredDelivery, run: DeliveryRun) => runStored(receiver, stored, run);
  return inbox.startWorker(telemetry ? runInSpan(telemetry, runOne) : runOne, {
    ...options,
    onDead: (stored, error, run) => reportDead(receiver, stored, error, run),
  });
}

function reportDead(receiver: Receiver, stored: StoredDelivery, error: unknown, run: DeliveryRun): void {
  if (receiver.telemetry) recordDead(receiver.telemetry, stored.provider);
  let event;
  try {
    ({ event } = storedDelivery(receiver, stored, run));
  } catch {
    return; // a provider this receiver does not configure: its run already failed saying so
  }
  emitAside(receiver.emitter, "dead", { event, error, attempts: run.attempt }, (err) =>
    receiver.options.logger.error({ err, deliveryId: stored.id }, "imagegen-webhooks: a dead listener failed"),
  );
}
