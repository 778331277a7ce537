// lib/reconcile/: reading generations back from their provider's API when their final webhook never
// came. Above the pipeline, like an adapter: it calls the pipeline through its entry.
import { WebhookError } from "../errors";
import type { GenerationStatus } from "../events/event-map";
import { printable } from "../text/printable";
import { ProviderApiError } from "../providers/provider-api";
import type { LeasingStore } from "../stores/store";
import { callProviderApi, DEFAULT_READ_BACK_MAX_BYTES, isReadableId, MAX_GENERATION_ID_LENGTH } from "../pipeline/read-back-fetch";
import { ATTR, count } from "../telemetry/index";
import {
  buildEvent,
  claimKey,
  dispatch,
  identify,
  NOTHING_CLAIMED,
  toStoredDelivery,
  type Delivery,
  type OpenGeneration,
  type Receiver,
  type ResolvedProvider,
} from "../pipeline/index";

/** What `webhooks.reconcile()` found. */
export interface ReconcileResult {
  provider: string;
  /** The generation's id. */
  id: string;
  /** Its status as the provider's API gives it. */
  status: GenerationStatus;
  /**
   * `emitted`: it had ended and its events fired (`origin: "reconciled"`); `stored`: the same, in
   * the inbox for a worker; `open`: it has not ended yet; `known`: its final status was already heard of.
   */
  outcome: "emitted" | "stored" | "open" | "known";
}

const FINAL: ReadonlySet<GenerationStatus> = new Set(["completed", "failed"]);
/** The longest wait between two read-backs of a generation whose read-backs keep failing. */
const MAX_BACKOFF_MS = 60 * 60_000;

/** Reads one generation back and, if it has ended, fires (or stores) its events. Rejects with why it could not. */
export async function reconcileGeneration(receiver: Receiver, providerName: string, id: string, app?: string): Promise<ReconcileResult> {
  const provider = receiver.options.providers.get(providerName);
  if (!provider) throw new Error(`imagegen-webhooks: reconcile: no provider "${providerName}" is configured`);
  count(receiver.telemetry, "reconcile.checked", 1, { [ATTR.provider]: providerName });
  const payload = await readBack(receiver, provider, id, app);
  const identity = identify(provider, payload, undefined);
  const run = { attempt: 1, replayed: false, origin: "reconciled" } as const;
  const event = buildEvent(provider, { identity, payload, receivedAt: new Date(), run });
  const { status } = event.generation;
  const result = (outcome: ReconcileResult["outcome"]): ReconcileResult => ({ provider: providerName, id, status, outcome });
  if (!FINAL.has(status)) return result("open");

  const key = `${providerName}:reconciled:${event.generation.id}`;
  const delivery: Delivery = { receiver, provider, startedAt: performance.now(), event, key, span: undefined };
  const { inbox, store, logger } = receiver.options;
  if (inbox) {
    const answer = await inbox.enqueue(toStoredDelivery(delivery));
    receiver.openGenerations?.forget(providerName, id);
    if (answer === "stored") count(receiver.telemetry, "reconcile.recovered", 1, { [ATTR.provider]: providerName });
    return result(answer === "stored" ? "stored" : "known");
  }
  return dispatch(delivery, {
    // Deduplicated like a delivery under its own key: read back twice, it fires once; its listener
    // failing releases the key, so that the next read-back fires it again.
    claim: store ? () => claimKey(store, key, logger) : () => NOTHING_CLAIMED,
    failOpen: false,
    // A read-back that does not move its generation forward was already heard of: it fires nothing.
    fireStale: false,
    retryTransient: false,
    // A store's failure is only logged by the caller; a listener's was the host app's to hear (`error`).
    conclude: (dispatched) => {
      if (dispatched.outcome === "unavailable") throw dispatched.error;
      if (dispatched.outcome === "failed") throw dispatched.failure;
      const moved = dispatched.outcome === "handled" && dispatched.moved;
      if (moved) count(receiver.telemetry, "reconcile.recovered", 1, { [ATTR.provider]: providerName });
      return result(moved ? "emitted" : "known");
    },
  });
}

/**
 * The provider's answer, checked against its schema like a delivery, and refused unless it is
 * about `id`. The id is checked first: it may come from a webhook, and it becomes a path.
 */
async function readBack(receiver: Receiver, provider: ResolvedProvider, id: string, app: string | undefined): Promise<unknown> {
  if (!isReadableId(id)) {
    throw new Error(
      `imagegen-webhooks: reconcile: not a generation id (empty, "." or "..", or over ${MAX_GENERATION_ID_LENGTH} characters)`,
    );
  }
  const { fetchGeneration } = provider.provider;
  if (!fetchGeneration) {
    throw new Error(
      `imagegen-webhooks: reconcile: ${provider.name} has no API to read a generation back` +
        (provider.provider.withoutApi ? ` (${provider.provider.withoutApi})` : ""),
    );
  }
  const { api } = provider;
  if (!api)
    throw new Error(
      `imagegen-webhooks: reconcile: set providers.${provider.name}.${provider.provider.credential?.option ?? "apiToken (or apiKey)"} to read its generations back`,
    );
  const { logger, reconcile } = receiver.options;
  const payload = await callProviderApi(
    {
      provider: provider.name,
      generation: id,
      baseUrl: api.baseUrl,
      timeoutMs: reconcile?.timeoutMs ?? 10_000,
      // A provider whose answers carry its images (OpenAI's) declares the larger cap they need.
      maxBytes: Math.max(reconcile?.maxBytes ?? DEFAULT_READ_BACK_MAX_BYTES, provider.provider.complete?.maxBytes ?? 0),
      logger,
    },
    (fetch, signal) => fetchGeneration(id, { ...api, fetch, signal, ...(app !== undefined && { app }) }),
  );
  try {
    provider.validate(payload);
  } catch (err) {
    if (err instanceof WebhookError) throw new ProviderApiError("the API's answer does not match the provider's schema", 200);
    throw err;
  }
  const about = provider.provider.normalize(payload, { resolveImageUrl: provider.resolveImageUrl, receivedAt: new Date() }).id;
  if (about !== id) throw new ProviderApiError("the API's answer is about another generation than the one asked for", 200);
  return payload;
}

/**
 * Looks at the open generations every `everyMs` and reads back those due. A read-back that fails
 * is logged and tried again later, with backoff (or after the API's `Retry-After`); it is never
 * thrown into the host app. With a store that leases (Redis), one instance reads each generation.
 */
export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly receiver: Receiver) {}

  start(): void {
    const settings = this.receiver.options.reconcile;
    if (!settings || this.timer) return;
    this.timer = setInterval(() => void this.tick(), settings.everyMs);
    this.timer.unref?.();
  }

  /** Stops looking, and waits for a look under way. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One look at the open generations (the timer's; tests call it too). */
  tick(): Promise<void> {
    this.running ??= this.readBackDue().finally(() => (this.running = undefined));
    return this.running;
  }

  private async readBackDue(): Promise<void> {
    const { openGenerations, options } = this.receiver;
    if (!openGenerations || !options.reconcile) return;
    const now = Date.now();
    for (const entry of openGenerations.due(now)) {
      const provider = options.providers.get(entry.provider);
      // An id no read-back can ask about (from a webhook) is never read back.
      if (!provider?.api || !isReadableId(entry.id)) {
        openGenerations.forget(entry.provider, entry.id);
        continue;
      }
      const shared = await this.sharedState(entry, options.reconcile.timeoutMs + options.reconcile.everyMs);
      if (shared === "ended") {
        openGenerations.forget(entry.provider, entry.id);
        continue;
      }
      if (shared === "taken") {
        entry.dueAt = now + options.reconcile.everyMs;
        continue;
      }
      try {
        const result = await reconcileGeneration(this.receiver, entry.provider, entry.id, entry.app);
        if (result.outcome === "open") {
          entry.failures = 0;
          entry.dueAt = Date.now() + options.reconcile.afterMs;
        } else openGenerations.forget(entry.provider, entry.id);
      } catch (err) {
        entry.failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, options.reconcile.everyMs * 2 ** (entry.failures - 1));
        const wait = Math.max(backoff, err instanceof ProviderApiError ? (err.retryAfterMs ?? 0) : 0);
        entry.dueAt = Date.now() + wait;
        options.logger.warn(
          { err, provider: entry.provider, generation: entry.id, failures: entry.failures, retryInMs: wait },
          `imagegen-webhooks: could not read generation ${printable(entry.id)} back from ${entry.provider}'s API; trying again later`,
        );
      }
    }
  }

  /**
   * With a store shared by several instances: whether another instance has already seen the
   * generation end, or is reading it back now (its lease); else this one takes the lease for `ms`.
   */
  private async sharedState(entry: OpenGeneration, ms: number): Promise<"ended" | "taken" | "mine"> {
    const store = this.receiver.options.generations as Partial<LeasingStore> | undefined;
    if (typeof store?.lease !== "function" || typeof store.peek !== "function") return "mine";
    const key = `${entry.provider}:${entry.id}`;
    try {
      const known = await store.peek(key);
      if (known === "completed" || known === "failed") return "ended";
      return (await store.lease(key, ms)) ? "mine" : "taken";
    } catch {
      // The store is away: the next look tries again.
      return "taken";
    }
  }
}
