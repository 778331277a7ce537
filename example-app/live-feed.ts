import type { Request, Response } from "express";

interface FeedEntry {
  id: number;
  type: string;
  data: unknown;
}

/**
 * A Server-Sent Events stream of what the webhooks emitter reported. It keeps the latest entries,
 * so that a page opened (or reconnected, with `Last-Event-ID`) late still shows what happened.
 */
export class LiveFeed {
  readonly #history: FeedEntry[] = [];
  readonly #clients = new Set<Response>();
  #nextId = 1;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: { historySize?: number; heartbeatMs?: number } = {}) {}

  publish(type: string, data: unknown): void {
    const entry = { id: this.#nextId++, type, data };
    this.#history.push(entry);
    if (this.#history.length > (this.options.historySize ?? 500)) this.#history.shift();
    for (const client of this.#clients) client.write(format(entry));
  }

  /**
   * Sends to the pages open now and keeps nothing: for a snapshot that the next one replaces (a
   * page opened later fetches the current one), so that it never pushes events out of the history.
   */
  broadcast(type: string, data: unknown): void {
    const message = `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.#clients) client.write(message);
  }

  /** How many pages follow the stream. */
  get clients(): number {
    return this.#clients.size;
  }

  /** `GET /events`. */
  readonly stream = (req: Request, res: Response): void => {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // Proxies such as nginx would otherwise hold the events back.
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const lastId = Number(req.get("last-event-id") ?? 0) || 0;
    // A last id beyond ours means this server restarted since: send everything it has.
    const since = lastId < this.#nextId ? lastId : 0;
    for (const entry of this.#history) if (entry.id > since) res.write(format(entry));
    this.#clients.add(res);
    this.#startHeartbeat();
    req.on("close", () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0) this.#stopHeartbeat();
    });
  };

  /** Ends every stream, so that the server can close. */
  close(): void {
    this.#stopHeartbeat();
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }

  #startHeartbeat(): void {
    // A comment line now and then keeps idle connections from being cut by proxies.
    this.#heartbeat ??= setInterval(() => {
      for (const client of this.#clients) client.write(": ping\n\n");
    }, this.options.heartbeatMs ?? 15_000).unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

function format({ id, type, data }: FeedEntry): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}
