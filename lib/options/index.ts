// lib/options/: every option of `createWebhooks()` checked once, at start-up, and resolved into
// what the pipeline reads (`ResolvedOptions`), so that the request path never re-checks one. This
// file is the folder's only entry: the options object, and `resolveOptions`, which resolves it with
// the modules beside it, one concern each: providers, provider, authentication, limits, stores,
// reconcile, keep-images, and checks (what they all share). What it may import is its layer's
// (eslint.config.mjs's LAYERS, checked by import-x/no-restricted-paths).
import type { ProviderName } from "../providers/index";
import type { AnyProvider } from "../providers/provider";
import { silentLogger, type Logger } from "../logging/logger";
import { warnOnce } from "../logging/warn-once";
import type { DedupeStore, GenerationStore } from "../stores/store";
import type { ResolvedOptions } from "../pipeline/index";
import type { Inbox } from "../inbox/inbox";
import type { Platform } from "../platform/platform";
import type { KeepImagesOptions } from "../images/keeper";
import { ConfigError, isObject, rejectUnknownKeys } from "./checks";
import { resolveKeepImages } from "./keep-images";
import { resolveHandlerTimeout, resolveLimit } from "./limits";
import type { ProviderOptions } from "./provider";
import { resolveProviders } from "./providers";
import { resolveReconcile, type ReconcileOptions } from "./reconcile";
import { resolveGenerations, resolveInbox, resolveStore } from "./stores";

export type { ProviderOptions } from "./provider";
export type { SignatureOptions } from "./authentication";
export type { ReconcileOptions } from "./reconcile";

/** The options of `createWebhooks`. */
export interface WebhooksOptions<Custom extends readonly AnyProvider[] = readonly []> {
  /** The providers to receive, by name, each with its options; each gets a route `/<name>`. */
  providers: { [P in ProviderName | Custom[number]["name"]]?: ProviderOptions };
  /** Providers of your own, made with `defineProvider()`, to configure in `providers` beside the built-in ones. */
  customProviders?: Custom;
  /** The largest body accepted, in bytes or as `"100kb"`. Default `100kb`. */
  limit?: number | string;
  /** Where delivery keys are remembered to drop retries: a store, or `false` for none. Default: in memory. */
  dedupe?: DedupeStore | false;
  /**
   * When the store cannot be reached: `false` (default) answers `503` so the provider retries and
   * nothing is lost; `true` emits the delivery without deduplication, so a retry may be handled twice
   * (and, when the generation store fails too, without ordering).
   */
  dedupeFailOpen?: boolean;
  /** Past this, the provider is answered `202` while listeners go on. Default 9000, under the 10 s most senders wait. */
  handlerTimeoutMs?: number;
  /** A pino-compatible logger. Silent by default. */
  logger?: Logger;
  /** Accept unauthenticated deliveries for every provider without a secret. */
  allowUnauthenticated?: boolean;
  /**
   * A durable inbox (`bullmqInbox()` from `imagegen-webhooks/bullmq`): each checked delivery is
   * stored before the provider is answered, and `startWorker()` runs the listeners, with retries.
   * Without one, listeners run while the provider waits, and an answered delivery lives only in memory.
   */
  inbox?: Inbox;
  /**
   * Where each generation's furthest status is remembered, so that `generation.*` events only move
   * forward (a late delivery fires `generation.stale`). Default: the inbox's Redis with an inbox,
   * the dedupe store when it keeps generations too (`redisStore()`), else this process's memory.
   * `false` fires every delivery's generation events as they come.
   */
  generations?: GenerationStore | false;
  /**
   * Recover generations whose final webhook never came: one still open `afterMs` after its last
   * delivery is read back from its provider's API (providers with `apiToken` or `apiKey`), and if it
   * has ended its events fire with `origin: "reconciled"`.
   */
  reconcile?: ReconcileOptions;
  /**
   * Download each generation's images into a store before its events fire, so that they outlive the
   * provider's expiring URLs: `generation.images[i].keptUrl` says where; `image.failed` reports one
   * that could not be kept. Node only.
   */
  keepImages?: KeepImagesOptions;
}

const GLOBAL_KEYS = [
  "providers",
  "customProviders",
  "limit",
  "dedupe",
  "dedupeFailOpen",
  "handlerTimeoutMs",
  "logger",
  "allowUnauthenticated",
  "inbox",
  "generations",
  "reconcile",
  "keepImages",
];

/** Checks every option once, at start-up, so the request path never re-checks one. */
export function resolveOptions(options: WebhooksOptions<readonly AnyProvider[]>, platform: Platform): ResolvedOptions {
  if (!isObject(options)) throw new ConfigError("createWebhooks takes an options object, e.g. { providers: { crazyhorse: { secret } } }");
  rejectUnknownKeys(options, GLOBAL_KEYS, "in createWebhooks()");
  for (const flag of ["allowUnauthenticated", "dedupeFailOpen"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") throw new ConfigError(`${flag} must be true or false`);
  }

  // This order is the order in which a configuration's mistakes are reported; reconcile reads the
  // resolved providers, and the generations' default the inbox and the dedupe store.
  const logger = resolveLogger(options.logger ?? silentLogger);
  const { providers, routes } = resolveProviders(options, platform, logger);
  const inbox = resolveInbox(options.inbox);
  const store = resolveStore(options.dedupe);
  warnWithoutCompletion(providers, logger);
  return {
    providers,
    routes,
    limit: resolveLimit(options.limit),
    store,
    dedupeFailOpen: options.dedupeFailOpen === true,
    handlerTimeoutMs: resolveHandlerTimeout(options.handlerTimeoutMs),
    logger,
    inbox,
    generations: resolveGenerations(options.generations, inbox, store),
    reconcile: resolveReconcile(options.reconcile, providers),
    keepImages: resolveKeepImages(options.keepImages, platform),
  };
}

/** A provider whose generations are completed from its API, configured without its credential, says at start-up what that costs. */
function warnWithoutCompletion(providers: ResolvedOptions["providers"], logger: Logger): void {
  for (const { name, provider, api } of providers.values()) {
    if (!provider.complete || api) continue;
    const option = provider.credential?.option ?? "apiKey";
    warnOnce(
      logger,
      `imagegen-webhooks: providers.${name}.${option} is not set: ${provider.complete.withoutCredential}. Set it to read each generation back from ${name}'s API before its events fire.`,
      "warn",
      providers,
    );
  }
}

function resolveLogger(logger: Logger): Logger {
  for (const level of ["debug", "info", "warn", "error"] as const) {
    if (!isObject(logger) && typeof logger !== "function") throw new ConfigError("logger must be a pino-compatible object");
    if (typeof (logger as unknown as Record<string, unknown>)[level] !== "function") {
      throw new ConfigError(`logger must be a pino-compatible object: it has no ${level}() method`);
    }
  }
  return logger;
}
