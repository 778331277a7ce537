import type { AnyWebhookEvent } from "imagegen-webhooks";

/**
 * What the simulator's inbox outcomes make the demo's own listener do with a generation's last
 * delivery: `flaky` fails its first two attempts (a downstream outage that passes), `broken` fails
 * every attempt until the delivery is replayed (a bug, fixed before the replay).
 */
export type ListenerFault = "flaky" | "broken";

/** Attempts of a flaky generation's last delivery that fail before one succeeds. */
export const FLAKY_FAILURES = 2;

/** The generations a simulated job asked to fail, by `<provider>:<generation id>`. */
export class ListenerFaults {
  readonly #faults = new Map<string, ListenerFault>();

  add(provider: string, generationId: string, fault: ListenerFault): void {
    this.#faults.set(`${provider}:${generationId}`, fault);
  }

  /**
   * A `generation` listener: throws where the generation's fault says so. Only the last delivery
   * (completed or failed) fails, so the card shows the job moving and then waiting on its end.
   */
  readonly listener = (event: AnyWebhookEvent): void => {
    const { generation } = event;
    if (generation.status !== "completed" && generation.status !== "failed") return;
    const fault = this.#faults.get(`${generation.provider}:${generation.id}`);
    if (fault === "flaky" && !event.replayed && event.attempt <= FLAKY_FAILURES) {
      throw new Error(`the image service did not answer (attempt ${event.attempt}; it comes back for attempt ${FLAKY_FAILURES + 1})`);
    }
    if (fault === "broken" && !event.replayed) {
      throw new Error("a bug in the demo's listener: fixed now, replay the delivery from the Deliveries panel");
    }
  };
}
