import { EventEmitter } from "node:events";
import type { WebhookEventMap, WebhookEventName, WebhookListener } from "./events";
import { createNodeMiddleware, type NodeMiddleware } from "./http/node-middleware";
import { resolveOptions, type WebhooksOptions } from "./options";
import type { WebhookResponse } from "./pipeline/answer";
import { receive, type ReceiveInput, type ReceiverState } from "./pipeline/receive";

/**
 * The receiver: a typed EventEmitter with the HTTP middleware and the framework-free `receive()`.
 * A thin façade over the pipeline's functions, which share one state object.
 */
export class Webhooks extends EventEmitter {
  readonly #state: ReceiverState;

  constructor(options: WebhooksOptions) {
    super();
    this.#state = { options: resolveOptions(options), emitter: this, closing: false, pending: new Set() };
  }

  override on<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.on(eventName, listener);
  }

  override addListener<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.addListener(eventName, listener);
  }

  override prependListener<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.prependListener(eventName, listener);
  }

  override once<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.once(eventName, listener);
  }

  override prependOnceListener<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.prependOnceListener(eventName, listener);
  }

  override off<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.off(eventName, listener);
  }

  override removeListener<K extends WebhookEventName>(eventName: K, listener: WebhookListener<K>): this {
    return super.removeListener(eventName, listener);
  }

  override emit<K extends WebhookEventName>(eventName: K, arg: WebhookEventMap[K]): boolean {
    return super.emit(eventName, arg);
  }

  /** One `(req, res, next)` function: `app.use("/webhooks", webhooks.middleware())`, or `http.createServer(webhooks.middleware())`. */
  middleware(): NodeMiddleware {
    return createNodeMiddleware(this.#state);
  }

  /** The whole pipeline without HTTP, for other frameworks, queue workers and tests. */
  receive(input: ReceiveInput): Promise<WebhookResponse> {
    return receive(this.#state, input);
  }

  /** Stops accepting (`503` with `Retry-After`) and resolves once the listeners in flight are done. */
  async close(): Promise<void> {
    this.#state.closing = true;
    while (this.#state.pending.size > 0) await Promise.allSettled([...this.#state.pending]);
  }
}

export function createWebhooks(options: WebhooksOptions): Webhooks {
  return new Webhooks(options);
}
