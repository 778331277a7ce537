import type { AnyWebhookEvent } from "imagegen-webhooks";
import type { Redis } from "ioredis";

/**
 * What the simulator's inbox outcomes make the demo's own listener do with a generation's last
 * delivery: `flaky` fails its first two attempts (a downstream outage that passes), `broken` fails
 * every attempt until the delivery is replayed (a bug, fixed before the replay).
 */
export type ListenerFault = "flaky" | "broken";

/** Attempts of a flaky generation's last delivery that fail before one succeeds. */
export const FLAKY_FAILURES = 2;

/** How long a job's fault is kept: longer than any simulated job plays and retries. */
const FAULT_TTL_SECONDS = 24 * 60 * 60;

/**
 * The generations a simulated job asked to fail, by `<provider>:<generation id>`, in a Redis hash
 * beside the inbox's queue: the worker that runs the delivery may be another process's (two demos
 * on one queue), and it must fail the attempts the job asked for, not only the process that was clicked.
 */
export class ListenerFaults {
  readonly #connection: Redis;
  readonly #key: string;

  constructor(connection: Redis, queueName: string) {
    this.#connection = connection;
    this.#key = `${queueName}:demo-listener-faults`;
  }

  async add(provider: string, generationId: string, fault: ListenerFault): Promise<void> {
    await this.#connection.multi().hset(this.#key, `${provider}:${generationId}`, fault).expire(this.#key, FAULT_TTL_SECONDS).exec();
  }

  /**
   * A `generation` listener: throws where the generation's fault says so. Only the last delivery
   * (completed or failed) fails, so the card shows the job moving and then waiting on its end.
   */
  readonly listener = async (event: AnyWebhookEvent): Promise<void> => {
    const { generation } = event;
    if (generation.status !== "completed" && generation.status !== "failed") return;
    const fault = await this.#connection.hget(this.#key, `${generation.provider}:${generation.id}`);
    if (fault === "flaky" && !event.replayed && event.attempt <= FLAKY_FAILURES) {
      throw new Error(`the image service did not answer (attempt ${event.attempt}; it comes back for attempt ${FLAKY_FAILURES + 1})`);
    }
    if (fault === "broken" && !event.replayed) {
      throw new Error("a bug in the demo's listener: fixed now, replay the delivery from the Deliveries panel");
    }
  };
}
