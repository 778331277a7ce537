import { abortEvent } from "./event";
import type { Receiver } from "./receiver";

/**
 * `close()` stops waiting: the listeners still running have their `event.signal` aborted, so that
 * those that pass it on stop, and their deliveries are logged.
 */
export function leaveRuns(receiver: Receiver, timeoutMs: number): void {
  const runs = [...receiver.runs];
  receiver.runs.clear();
  const reason = new DOMException(`the receiver closed after waiting ${timeoutMs} ms for its listeners`, "AbortError");
  for (const { event } of runs) abortEvent(event, reason);
  if (runs.length === 0) return;
  // The keys come from the deliveries: a field of the line, never spliced into its message.
  receiver.options.logger.warn(
    { left: runs.map(({ key }) => key), timeoutMs },
    receiver.options.inbox
      ? "imagegen-webhooks: close() stopped waiting for the listeners of the deliveries in `left`; a worker takes them again once their lock runs out"
      : "imagegen-webhooks: close() stopped waiting for the listeners of the deliveries in `left`",
  );
}
