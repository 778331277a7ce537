// The bare specifier, not node:events: Node, Bun, Deno and Workers with nodejs_compat resolve it to
// their own EventEmitter, and a bundle for the browser condition to the \`events\` package (a
// dependency), so that one class with one typed API serves every runtime.
import { EventEmitter } from "events";
import type { ProviderSet, WebhookEventMap, WebhookListener } from "../events/event-map";
import type { BuiltInProviders } from "../providers/index";
import type { AnyProvider } from "../providers/provider";
import { createFetchHandler, type FetchHandler, type FetchOptions } from "../http/fetch-handler";
import type { NodeMiddleware } from "../http/node-middleware";
import type { DeliveryDetail, DeliveryFilter, DeliverySummary, Inbox, InboxWorker, InboxWorkerOptions } from "../inbox/inbox";
import { resolveOptions, type ProviderOptions, type WebhooksOptions } from "../options/index";
import type { Platform } from "../platform/platform";
import {
  leaveRuns,
  OpenGenerations,
  receive,
  settleWithin,
  startInboxWorker,
  TIMED_OUT,
  type ReceiveInput,
  type Receiver,
} from "../pipeline/index";
import { reconcileGeneration, Reconciler, type ReconcileResult } from "../reconcile/reconciler";
import { createGenerations, type Generations } from "../generations/generations";
import type { GenerationRecord, TrackingStore } from "../stores/store";
import type { WebhookResponse } from "../http/response";
import { createTelemetry } from "../telemetry/index";

/** The history of an inbox's deliveries: `webhooks.deliveries`. */
export interface Deliveries {
  /** Newest first; `status` one of `queued`, `active`, `retrying`, `completed`, `dead`. */
  list(filter?: DeliveryFilter): Promise<DeliverySummary[]>;
  /** One delivery by its `key` (as `list()` gives it), with its payload and each failed attempt's error. */
  get(key: string): Promise<DeliveryDetail | undefined>;
  /** Runs a completed or dead delivery's listeners again (`event.replayed` is true); false when there is no such delivery. */
  replay(key: string): Promise<boolean>;
}

/**
 * The receiver: a typed EventEmitter with the HTTP middleware and the framework-free `receive()`.
 * A thin façade over the pipeline's functions, which share one state object.
 */
// The methods' event names are spelled `keyof WebhookEventMap<Ps> & string`, not through the
// WebhookEventName alias: the compiler then shows a wrong name's alternatives as the names
// themselves, where the alias showed the providers' types expanded (kilobytes that name no event).
export class Webhooks<Ps extends ProviderSet = BuiltInProviders> extends EventEmitter {
  readonly #receiver: Receiver;
  readonly #platform: Platform;
  readonly #fetch: FetchHandler;
  readonly #workers = new Set<InboxWorker>();
  readonly #reconciler: Reconciler;
  /** The history of stored deliveries; it needs an `inbox`. */
  readonly deliveries: Deliveries;
  /** The generations the app started: `track()` them with your metadata, `get()` where they are, `wait()` for their end. */
  readonly generations: Generations;

  /** @internal Use `createWebhooks()`, which passes the platform of its entry point (Node's, or the web one's). */
  constructor(options: WebhooksOptions<readonly AnyProvider[]>, platform: Platform) {
    super();
    this.#platform = platform;
    const resolved = resolveOptions(options, platform);
    this.#receiver = {
      options: resolved,
      emitter: this,
      closing: false,
      inFlight: new Set(),
      runs: new Set(),
      telemetry: createTelemetry(resolved.inbox),
      ...(resolved.reconcile && { openGenerations: new OpenGenerations(resolved.reconcile.afterMs) }),
    };
    this.#reconciler = new Reconciler(this.#receiver);
    this.#reconciler.start();
    this.#fetch = createFetchHandler(this.#receiver, platform.decoder);
    this.deliveries = {
      list: async (filter) => this.#inbox("deliveries.list").list(filter),
      get: async (key) => this.#inbox("deliveries.get").get(key),
      replay: async (key) => this.#inbox("deliveries.replay").replay(key),
    };
    this.generations = createGenerations(this.#receiver);
  }

  #inbox(what: string): Inbox {
    const { inbox } = this.#receiver.options;
    if (!inbox) throw new Error(`imagegen-webhooks: ${what}() needs an inbox: createWebhooks({ inbox: bullmqInbox({ connection }) })`);
    return inbox;
  }

  override on<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.on(eventName, listener);
  }

  override addListener<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.addListener(eventName, listener);
  }

  override prependListener<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.prependListener(eventName, listener);
  }

  override once<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.once(eventName, listener);
  }

  override prependOnceListener<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.prependOnceListener(eventName, listener);
  }

  override off<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.off(eventName, listener);
  }

  override removeListener<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, listener: WebhookListener<K, Ps>): this {
    return super.removeListener(eventName, listener);
  }

  override emit<K extends keyof WebhookEventMap<Ps> & string>(eventName: K, arg: WebhookEventMap<Ps>[K]): boolean {
    return super.emit(eventName, arg);
  }

  /** One `(req, res, next)` function: `app.use("/webhooks", webhooks.middleware())`, or `http.createServer(webhooks.middleware())`. */
  middleware(): NodeMiddleware {
    const { nodeMiddleware } = this.#platform;
    if (!nodeMiddleware) {
      throw new Error(
        'imagegen-webhooks: middleware() is the Node adapter, and this receiver comes from "imagegen-webhooks/web": answer with webhooks.fetch(request), or import createWebhooks from "imagegen-webhooks" on Node',
      );
    }
    return nodeMiddleware(this.#receiver);
  }

  /**
   * The whole pipeline over a web-standard `Request`, for Next.js route handlers, Hono, Bun, Deno
   * and Cloudflare Workers: the same statuses, headers and problem+json bodies as the middleware.
   * The provider comes from `options.provider`, or from the URL's path below `options.basePath`.
   */
  fetch(request: Request, options?: FetchOptions): Promise<Response> {
    return this.#fetch(request, options);
  }

  /** The whole pipeline without HTTP, for other frameworks, queue workers and tests. */
  async receive(input: ReceiveInput): Promise<WebhookResponse> {
    return receive(this.#receiver, input);
  }

  /**
   * Runs the listeners of the deliveries the inbox stored, in this process: here beside the edge,
   * or in a process of its own with the same options. A listener that throws fails the attempt
   * (`error`), and the delivery is retried with backoff; after the last attempt it is `dead`.
   */
  async startWorker(options: InboxWorkerOptions = {}): Promise<InboxWorker> {
    const worker = await startInboxWorker(this.#receiver, this.#inbox("startWorker"), options);
    const handle: InboxWorker = {
      close: async (closeOptions) => {
        this.#workers.delete(handle);
        await worker.close(closeOptions);
      },
    };
    this.#workers.add(handle);
    return handle;
  }

  /**
   * Reads a generation back from its provider's API now (Replicate with `apiToken`, all-images with
   * `apiKey`; crazyhorse.ai has no such API) and, if it has ended and its final status was not
   * already heard of, fires its events with `origin: "reconciled"`. Rejects with why it could not.
   */
  async reconcile(provider: string, id: string): Promise<ReconcileResult> {
    // A tracked generation's read-back gets the `app` it was tracked with (fal.ai's model id); a
    // store that cannot say leaves it unsaid, and the read-back says what that costs.
    const store = this.#receiver.options.generations as Partial<TrackingStore> | undefined;
    let record: GenerationRecord | undefined;
    if (typeof store?.read === "function" && this.#receiver.options.providers.has(provider)) {
      try {
        record = await store.read(`${provider}:${id}`);
      } catch {
        record = undefined;
      }
    }
    return reconcileGeneration(this.#receiver, provider, id, record?.tracked?.app);
  }

  /**
   * Stops accepting (`503` with `Retry-After`) and resolves once the listeners in flight are done;
   * with an inbox, its workers let their active deliveries finish and take no other, and it closes.
   * It resolves by `timeoutMs` (default 30 s) whatever the listeners do: those still running then
   * have their `event.signal` aborted and are logged, and an inbox's worker leaves their deliveries,
   * which a worker takes again once their lock runs out.
   */
  async close({ timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS }: CloseOptions = {}): Promise<void> {
    if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      throw new TypeError(`close: timeoutMs must be a number of milliseconds ≥ 0, got ${String(timeoutMs)}`);
    }
    const receiver = this.#receiver;
    receiver.closing = true;
    const workers = [...this.#workers];
    this.#workers.clear();
    const drained = Promise.all([
      this.#reconciler.stop(),
      (async () => {
        while (receiver.inFlight.size > 0) await Promise.allSettled([...receiver.inFlight]);
      })(),
      ...workers.map((worker) => worker.close({ timeoutMs })),
    ]).then(() => {});
    const settled = await settleWithin(drained, timeoutMs);
    // Past the deadline, and any run a worker left as it closed: told to stop, and named.
    leaveRuns(receiver, timeoutMs);
    if (settled !== TIMED_OUT) await drained; // a worker that failed to close says so
    receiver.telemetry?.close();
    await receiver.options.inbox?.close();
    receiver.options.keepImages?.close();
  }
}

/** The options of `webhooks.close()`. */
export interface CloseOptions {
  /** How long to wait for the listeners in flight before giving up on them. Default 30000. */
  timeoutMs?: number;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

/** The built-in providers, and the user's own by name. */
export type WithCustomProviders<Custom extends readonly AnyProvider[]> = Custom extends readonly []
  ? BuiltInProviders
  : BuiltInProviders & { [P in Custom[number] as P["name"]]: P };

/** The providers a receiver is configured with: only their events are offered and accepted. */
export type ConfiguredProviders<Custom extends readonly AnyProvider[], Configured extends string> =
  Pick<WithCustomProviders<Custom>, Configured & keyof WithCustomProviders<Custom>> extends infer Ps extends ProviderSet ? Ps : never;

/** `createWebhooks` as an entry point gives it: typed by the providers configured. */
export type CreateWebhooks = <
  const Custom extends readonly AnyProvider[] = readonly [],
  Configured extends keyof WithCustomProviders<Custom> & string = keyof WithCustomProviders<Custom> & string,
>(
  options: WebhooksOptions<Custom> & { providers: { [P in Configured]?: ProviderOptions } },
) => Webhooks<ConfiguredProviders<Custom, Configured>>;

/** The `createWebhooks` of one platform (Node's, or web APIs only): each entry point makes its own. */
export function createWebhooksFor(platform: Platform): CreateWebhooks {
  return (options) => new Webhooks(options, platform);
}
