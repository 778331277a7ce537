import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { LiveFeed } from "./live-feed";

/** Where the demo's listeners report what the pages show: `publish` as `LiveFeed` has it. */
export interface FeedPublisher {
  publish(type: string, data: unknown): void;
}

/**
 * The pages' feed shared by every demo process on one Redis: each report is PUBLISHed on a channel
 * beside the inbox's queue, and each process's subscriber puts what comes on it into its own
 * `LiveFeed`. With two processes on one queue, the worker that runs a delivery may be the other
 * process's; its card must still appear on the page that was clicked, and on every other page.
 *
 * Pub/sub keeps nothing: a page opened later has what its own process heard since it started (its
 * `LiveFeed`'s history), and a report made while a subscriber reconnects is not seen there.
 */
export class RedisSharedFeed implements FeedPublisher {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #logger: Logger;
  /** Resolves once this process hears the channel: before it, its own reports would not come back. */
  readonly ready: Promise<void>;

  constructor(options: { connection: Redis; queueName: string; feed: LiveFeed; logger: Logger }) {
    this.#publisher = options.connection;
    this.#channel = `${options.queueName}:demo-feed`;
    this.#logger = options.logger;
    // A connection in subscriber mode takes no other command: one of its own, closed with the feed.
    this.#subscriber = options.connection.duplicate();
    // Its outages are the inbox's to report (its own connection fails at the same time); ioredis reconnects.
    this.#subscriber.on("error", () => {});
    this.#subscriber.on("message", (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      try {
        const { type, data } = JSON.parse(message) as { type: string; data: unknown };
        options.feed.publish(type, data);
      } catch (err) {
        this.#logger.warn({ err }, "the demo's shared feed carried a message that is not its own");
      }
    });
    this.ready = this.#subscriber.subscribe(this.#channel).then(() => undefined);
  }

  publish(type: string, data: unknown): void {
    // JSON as the stream would write it: a Date becomes its ISO string here as there.
    this.#publisher.publish(this.#channel, JSON.stringify({ type, data })).catch((err: unknown) => {
      this.#logger.warn({ err, type }, "the demo's shared feed could not publish: the pages miss this report");
    });
  }

  /** Stops hearing the channel (a subscription still waiting on Redis is given up). */
  close(): void {
    this.#subscriber.disconnect();
  }
}
