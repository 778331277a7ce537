import { EventEmitter } from "node:events";
import type { ProviderSet, WebhookEventMap, WebhookEventName, WebhookListener } from "./events";
import type { BuiltInProviders } from "./providers/index";
import type { AnyProvider } from "./providers/provider";
import { createNodeMiddleware, type NodeMiddleware } from "./http/node-middleware";
import { resolveOptions, type WebhooksOptions } from "./options";
import type { WebhookResponse } from "./pipeline/answer";
import { receive, type ReceiveInput, type ReceiverState } from "./pipeline/receive";

/**
 * The receiver: a typed EventEmitter with the HTTP middleware and the framework-free `receive()`.
 * A thin façade over the pipeline's functions, which share one state object.
 */
export class Webhooks<Ps extends ProviderSet = BuiltInProviders> extends EventEmitter {
  readonly #state: ReceiverState;

  constructor(options: WebhooksOptions<readonly AnyProvider[]>) {
    super();
    this.#state = { options: resolveOptions(options), emitter: this, closing: false, pending: new Set() };
  }

  override on<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.on(eventName, listener);
  }

  override addListener<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.addListener(eventName, listener);
  }

  override prependListener<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.prependListener(eventName, listener);
  }

  override once<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.once(eventName, listener);
  }

  override prependOnceListener<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.prependOnceListener(eventName, listener);
  }

  override off<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.off(eventName, listener);
  }

  override removeListener<K extends WebhookEventName<Ps>>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.removeListener(eventName, listener);
  }

  override emit<K extends WebhookEventName<Ps>>(eventName: K, arg: WebhookEventMap<Ps>[K]): boolean {
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

/** The built-in providers, and the user's own by name. */
export type WithCustomProviders<Custom extends readonly AnyProvider[]> = Custom extends readonly []
  ? BuiltInProviders
  : BuiltInProviders & { [P in Custom[number] as P["name"]]: P };

/** Creates a receiver. Every option is checked here: a configuration mistake throws a message that says what to change. */
export function createWebhooks<const Custom extends readonly AnyProvider[] = readonly []>(
  options: WebhooksOptions<Custom>,
): Webhooks<WithCustomProviders<Custom>> {
  return new Webhooks<WithCustomProviders<Custom>>(options);
}
