/** The calls a subscriber connection takes, typed by shape (an ioredis `Redis` or `Cluster` fits). */
export interface RedisSubscriber {
  /** `ready` once connected; ioredis' connection states. */
  readonly status?: string;
  subscribe(channel: string): Promise<unknown>;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "error", listener: (err: unknown) => void): unknown;
  once(event: "ready" | "end", listener: () => void): unknown;
  removeAllListeners(): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A client that opens a connection of its own like itself: ioredis' `duplicate()`. */
export interface RedisSubscriberSource {
  duplicate(): RedisSubscriber;
}

/** How long the subscriber connection may take to connect before a wait rejects. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * One subscriber connection to the channel that publishes the ends of tracked generations,
 * shared by every wait of a store: opened by the first listener, closed when the last leaves (a
 * closed channel is not reused; the store opens a new one). Messages are generation keys; each
 * calls the listeners of its key.
 */
export class RedisEndedChannel {
  private readonly listeners = new Map<string, Set<() => void>>();
  private count = 0;
  private readonly subscriber: RedisSubscriber;
  private readonly subscribed: Promise<void>;
  private idle = false;
  /** Settles once the connection is closed. */
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(
    source: RedisSubscriberSource,
    private readonly channel: string,
    commandTimeoutMs: number,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.subscriber = source.duplicate();
    // The connection's errors reach the waits as rejections (a subscribe that fails or times out); an
    // unheard `error` event would only be logged by ioredis as unhandled.
    this.subscriber.on("error", () => {});
    this.subscriber.on("message", (channel, key) => {
      if (channel !== this.channel) return;
      const listening = this.listeners.get(key);
      if (listening) for (const ended of [...listening]) ended();
    });
    this.subscribed = this.subscribe(commandTimeoutMs);
    // A failure is each listener's to hear; this one only keeps it from being unhandled.
    this.subscribed.catch(() => {});
  }

  /** Listeners now (0 once every wait has settled). */
  get size(): number {
    return this.count;
  }

  /** Calls `ended` when the generation `key` ends; resolves once subscribed, to the function that stops it. */
  async listen(key: string, ended: () => void): Promise<() => void> {
    let listening = this.listeners.get(key);
    if (!listening) this.listeners.set(key, (listening = new Set()));
    listening.add(ended);
    this.count++;
    let stopped = false;
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      listening.delete(ended);
      if (listening.size === 0 && this.listeners.get(key) === listening) this.listeners.delete(key);
      if (--this.count === 0) this.close();
    };
    try {
      await this.subscribed;
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  private async subscribe(timeoutMs: number): Promise<void> {
    const subscriber = this.subscriber;
    if (subscriber.status !== "ready") {
      await within(
        new Promise<void>((resolve, reject) => {
          subscriber.once("ready", resolve);
          subscriber.once("end", () => reject(new Error("imagegen-webhooks: the Redis subscriber connection ended")));
        }),
        CONNECT_TIMEOUT_MS,
        "connect",
      );
    }
    await within(subscriber.subscribe(this.channel), timeoutMs, "subscribe");
  }

  /** The last listener left: the connection closes (quit, or disconnect if it never connected). */
  private close(): void {
    if (this.idle) return;
    this.idle = true;
    const subscriber = this.subscriber;
    void this.subscribed
      .then(
        () => subscriber.quit(),
        () => subscriber.disconnect(),
      )
      .catch(() => subscriber.disconnect())
      .finally(() => {
        subscriber.removeAllListeners();
        this.markClosed();
      });
  }

  /** Whether the last listener has left (the store then opens a new channel for the next). */
  get closing(): boolean {
    return this.idle;
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`imagegen-webhooks: the Redis subscriber did not ${what} within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
