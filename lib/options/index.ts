import bytes from "bytes";
import { providers as builtInProviders, type ProviderName } from "../providers/index";
import type { AnyProvider } from "../providers/provider";
import { silentLogger, type Logger } from "../logger";
import { MemoryStore } from "../stores/memory-store";
import type { DedupeStore, GenerationStore } from "../stores/store";
import { MemoryGenerations } from "../stores/memory-generations";
import { compileValidator, type Validator } from "../pipeline/validate";
import { createTokenVerifier } from "../pipeline/authenticate";
import { createSignatureVerifier, decodeSigningSecret, DEFAULT_TOLERANCE_SECONDS, type SignatureVerifier } from "../pipeline/signature";
import type { AllowList } from "../pipeline/source-ip";
import type { ProviderApiSettings, ResolvedOptions, ResolvedProvider } from "../pipeline/receiver";
import type { Inbox } from "../inbox/inbox";
import type { Platform } from "../platform/platform";
import type { ImageKeeper, KeepImagesOptions } from "../images/keeper";

/** A Standard Webhooks signature to require (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
export interface SignatureOptions {
  /**
   * The `whsec_…` signing secret the provider shows; several while you rotate. `undefined` is
   * accepted by the type, as for the token `secret`, so `process.env.X` compiles under `strict`;
   * `createWebhooks` throws if it is unset.
   */
  secret: string | readonly string[] | undefined;
  /** How far `webhook-timestamp` may be from now, either way, against replays. Default 300. */
  toleranceSeconds?: number;
}

/** One provider's options: it needs a `secret`, a `signature`, or `allowUnauthenticated`. */
export interface ProviderOptions {
  /** The token the provider sends back (`?token=`, `Authorization: Bearer`, `X-Webhook-Token`). Several during a rotation. */
  secret?: string | readonly string[];
  /** Require a Standard Webhooks signature, alone or beside the token. */
  signature?: SignatureOptions;
  /**
   * Accept deliveries only from these addresses or CIDR ranges (IPv4 and IPv6); `403` from anywhere
   * else. Behind a proxy, set Express's `trust proxy` so that `req.ip` is the provider's address.
   */
  allowedIps?: readonly string[];
  /** The route below the mount point. Default `/<provider>`. */
  path?: string;
  /** Where the provider's relative image paths live, e.g. `https://storage.example.com/`. */
  imageBaseUrl?: string;
  /** Accept this provider's deliveries without a secret. An explicit opt-out, for local experiments. */
  allowUnauthenticated?: boolean;
  /** Replicate's API token: with `reconcile`, a prediction whose final webhook never came is read back from its API. */
  apiToken?: string | undefined;
  /** all-images.ai's API key (its `api-key` header): with `reconcile`, a generation whose final webhook never came is read back. */
  apiKey?: string | undefined;
  /** Where the provider's API is, to point at a proxy or a test server: an origin such as `https://api.replicate.com` (the default). */
  apiBaseUrl?: string;
}

/** When open generations are read back from their provider's API. */
export interface ReconcileOptions {
  /** A generation still open this long after its last delivery is read back. Default 10 minutes. */
  afterMs?: number;
  /** How often the open generations are looked at. Default 1 minute. */
  everyMs?: number;
  /** How long one read-back may take. Default 10 seconds. */
  timeoutMs?: number;
}

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
const PROVIDER_KEYS = [
  "secret",
  "signature",
  "allowedIps",
  "path",
  "imageBaseUrl",
  "allowUnauthenticated",
  "apiToken",
  "apiKey",
  "apiBaseUrl",
];
const DEFAULT_LIMIT = "100kb";
const DEFAULT_HANDLER_TIMEOUT_MS = 9000;

class ConfigError extends TypeError {
  constructor(message: string) {
    super(`imagegen-webhooks: ${message}`);
    this.name = "ConfigError";
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rejectUnknownKeys(object: Record<string, unknown>, known: string[], where: string): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new ConfigError(`unknown option "${key}" ${where}: the options are ${known.join(", ")}`);
  }
}

/** Checks every option once, at start-up, so the request path never re-checks one. */
export function resolveOptions(options: WebhooksOptions<readonly AnyProvider[]>, platform: Platform): ResolvedOptions {
  if (!isObject(options)) throw new ConfigError("createWebhooks takes an options object, e.g. { providers: { crazyhorse: { secret } } }");
  rejectUnknownKeys(options, GLOBAL_KEYS, "in createWebhooks()");
  for (const flag of ["allowUnauthenticated", "dedupeFailOpen"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") throw new ConfigError(`${flag} must be true or false`);
  }

  const known = knownProviders(options.customProviders);
  const names = [...known.keys()].join(", ");
  const configured = options.providers;
  if (!isObject(configured) || Object.keys(configured).length === 0) {
    throw new ConfigError(
      `name at least one provider in "providers", e.g. { providers: { crazyhorse: { secret: "…" } } }; the providers are ${names}`,
    );
  }

  const resolved = new Map<string, ResolvedProvider>();
  const routes = new Map<string, ResolvedProvider>();
  for (const [name, providerOptions] of Object.entries(configured)) {
    if (providerOptions === undefined) continue;
    const provider = known.get(name);
    if (!provider) {
      throw new ConfigError(
        `unknown provider "${name}": the providers are ${names}; to add one of your own, define it with defineProvider() and pass it in customProviders`,
      );
    }
    const entry = resolveProvider(provider, providerOptions, options.allowUnauthenticated === true, platform);
    const taken = routes.get(entry.path);
    if (taken) throw new ConfigError(`providers ${taken.name} and ${name} both use the path ${entry.path}: give one a "path" of its own`);
    resolved.set(name, entry);
    routes.set(entry.path, entry);
  }

  if (resolved.size === 0) {
    throw new ConfigError(
      `name at least one provider in "providers" with its options: every one given is undefined (are the settings they are read from set?); the providers are ${names}`,
    );
  }

  const inbox = resolveInbox(options.inbox);
  const store = resolveStore(options.dedupe);
  return {
    providers: resolved,
    routes,
    limit: resolveLimit(options.limit ?? DEFAULT_LIMIT),
    store,
    dedupeFailOpen: options.dedupeFailOpen === true,
    handlerTimeoutMs: resolveTimeout(options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS),
    logger: resolveLogger(options.logger ?? silentLogger),
    inbox,
    generations: resolveGenerations(options.generations, inbox, store),
    reconcile: resolveReconcile(options.reconcile, resolved),
    keepImages: options.keepImages === undefined ? undefined : resolveKeepImages(options.keepImages, platform),
  };
}

/** The built-in providers and the user's own, by name. */
function knownProviders(custom: unknown): Map<string, AnyProvider> {
  const known = new Map<string, AnyProvider>(Object.entries(builtInProviders));
  if (custom === undefined) return known;
  if (!Array.isArray(custom)) throw new ConfigError("customProviders must be an array of providers made with defineProvider()");
  for (const provider of custom as unknown[]) {
    const { name, normalize, authentication } = (isObject(provider) ? provider : {}) as Partial<AnyProvider>;
    if (typeof name !== "string" || typeof normalize !== "function" || !Array.isArray(authentication)) {
      throw new ConfigError("customProviders must hold providers made with defineProvider()");
    }
    if (known.has(name)) {
      throw new ConfigError(
        `customProviders: a provider named "${name}" is ${name in builtInProviders ? "built in" : "given twice"}: give yours another name`,
      );
    }
    known.set(name, provider as AnyProvider);
  }
  return known;
}

function compileSchema(name: string, schema: object): Validator {
  try {
    return compileValidator(schema);
  } catch (err) {
    throw new ConfigError(`the schema of provider ${name} does not compile: ${(err as Error).message}`);
  }
}

/** What to set for each way the provider can be authenticated, in the order it prefers them. */
const AUTHENTICATION_HINTS = {
  token: (name: string) =>
    `providers.${name}.secret (a token you choose and put in the callback URL you register with ${name}, as ?token=…, ` +
    `or send as "Authorization: Bearer …" or "X-Webhook-Token")`,
  signature: (name: string) => `providers.${name}.signature ({ secret: "whsec_…" }, the signing secret ${name} gives you)`,
};

function resolveProvider(
  provider: AnyProvider,
  options: unknown,
  allowUnauthenticatedGlobally: boolean,
  platform: Platform,
): ResolvedProvider {
  const { name } = provider;
  if (!isObject(options)) throw new ConfigError(`providers.${name} must be an object, e.g. { secret: "…" }`);
  rejectUnknownKeys(options, PROVIDER_KEYS, `for provider ${name}`);
  const {
    secret,
    signature,
    allowedIps,
    path = `/${name}`,
    imageBaseUrl,
    allowUnauthenticated,
    apiToken,
    apiKey,
    apiBaseUrl,
  } = options as ProviderOptions;

  const secrets = secret === undefined ? [] : typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.some((s) => typeof s !== "string" || s.length === 0)) {
    throw new ConfigError(`providers.${name}.secret must be a non-empty string, or an array of them while you rotate`);
  }
  if (secrets.length === 0 && signature === undefined && allowUnauthenticated !== true && !allowUnauthenticatedGlobally) {
    throw new ConfigError(
      `provider ${name} has no secret: set ${provider.authentication.map((method) => AUTHENTICATION_HINTS[method](name)).join(", or ")}, ` +
        `or set allowUnauthenticated: true to accept anyone's deliveries` +
        (secret === undefined && signature === undefined ? " (is the environment variable you read it from set?)" : ""),
    );
  }
  for (const [method, given] of [
    ["token", secrets.length > 0],
    ["signature", signature !== undefined],
  ] as const) {
    if (given && !provider.authentication.includes(method)) {
      throw new ConfigError(
        `provider ${name} cannot be authenticated by ${method}: set ${AUTHENTICATION_HINTS[provider.authentication[0]!](name)} instead`,
      );
    }
  }
  if (typeof path !== "string" || !path.startsWith("/") || path.includes("?")) {
    throw new ConfigError(`providers.${name}.path must start with "/" and hold no query, e.g. "/${name}"`);
  }

  return {
    name,
    provider,
    path: path.length > 1 ? path.replace(/\/+$/, "") : path,
    token: createTokenVerifier(secrets, platform.crypto),
    signature: signature === undefined ? undefined : resolveSignature(name, signature, platform),
    allowedIps: allowedIps === undefined ? undefined : resolveAllowedIps(name, allowedIps, platform),
    validate: compileSchema(name, provider.schema),
    resolveImageUrl: imageUrlResolver(name, imageBaseUrl),
    api: resolveApi(provider, apiToken ?? apiKey, apiBaseUrl),
  };
}

function resolveSignature(name: string, signature: unknown, platform: Platform): SignatureVerifier {
  const where = `providers.${name}.signature`;
  if (!isObject(signature)) throw new ConfigError(`${where} must be an object, e.g. { secret: "whsec_…" }`);
  rejectUnknownKeys(signature, ["secret", "toleranceSeconds"], `in ${where}`);
  const { secret, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = signature as Partial<SignatureOptions>;
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new ConfigError(
      `${where}.secret must be the provider's "whsec_…" signing secret, or an array of them while you rotate` +
        (secret === undefined ? " (is the environment variable you read it from set?)" : ""),
    );
  }
  const keys = secrets.map((s: unknown, i: number) => {
    try {
      return decodeSigningSecret(s);
    } catch (err) {
      throw new ConfigError(`${where}.secret${secrets.length > 1 ? `[${i}]` : ""}: ${(err as Error).message}`);
    }
  });
  if (typeof toleranceSeconds !== "number" || !(toleranceSeconds > 0) || !Number.isFinite(toleranceSeconds)) {
    throw new ConfigError(`${where}.toleranceSeconds must be a positive number of seconds (default ${DEFAULT_TOLERANCE_SECONDS})`);
  }
  return createSignatureVerifier(keys, toleranceSeconds, platform.crypto);
}

function resolveAllowedIps(name: string, allowedIps: unknown, platform: Platform): AllowList {
  const where = `providers.${name}.allowedIps`;
  if (!platform.allowList) {
    throw new ConfigError(
      `${where} needs node:net, which imagegen-webhooks/web does without: import createWebhooks from "imagegen-webhooks" where the runtime has it (Node, Bun, Deno), or check the address at the platform (a Cloudflare WAF rule)`,
    );
  }
  if (!Array.isArray(allowedIps) || allowedIps.length === 0) {
    throw new ConfigError(`${where} must be a non-empty array of addresses or CIDR ranges, e.g. ["203.0.113.0/24", "2001:db8::/32"]`);
  }
  try {
    return platform.allowList(allowedIps, where);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:/i;

function imageUrlResolver(name: string, imageBaseUrl: unknown): (path: string) => string {
  if (imageBaseUrl === undefined) return (path) => path;
  let base: URL;
  try {
    base = new URL(typeof imageBaseUrl === "string" ? imageBaseUrl : "invalid:");
  } catch {
    base = new URL("invalid:");
  }
  if (typeof imageBaseUrl !== "string" || (base.protocol !== "https:" && base.protocol !== "http:")) {
    throw new ConfigError(`providers.${name}.imageBaseUrl must be an absolute http(s) URL, e.g. "https://storage.example.com/"`);
  }
  // Without a trailing slash, URL resolution would drop the base's last segment.
  const prefix = base.href.endsWith("/") ? base.href : `${base.href}/`;
  return (path) => {
    if (ABSOLUTE_URL.test(path)) return path;
    try {
      return new URL(path.replace(/^\/+/, ""), prefix).href;
    } catch {
      return prefix + path;
    }
  };
}

/** What `bytes.parse` reads exactly; it would read "2MiB" as 2 bytes, silently. */
const SIZE = /^\s*\d+(?:\.\d+)?\s*(?:b|kb|mb|gb|tb|pb)?\s*$/i;

function resolveLimit(limit: number | string): number {
  const parsed = typeof limit === "number" ? limit : SIZE.test(limit) ? bytes.parse(limit) : NaN;
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed <= 0) {
    throw new ConfigError(
      `limit must be a positive number of bytes or a size such as "100kb" or "1mb" (units b, kb, mb, gb, tb), got ${JSON.stringify(limit)}`,
    );
  }
  return Math.floor(parsed);
}

function resolveStore(dedupe: WebhooksOptions["dedupe"]): DedupeStore | undefined {
  if (dedupe === false) return undefined;
  if (dedupe === undefined) return new MemoryStore();
  const store = dedupe as unknown as Record<string, unknown>;
  if (
    !isObject(store) ||
    typeof store.claim !== "function" ||
    typeof store.complete !== "function" ||
    typeof store.release !== "function"
  ) {
    throw new ConfigError(
      "dedupe must be a store with claim(), complete() and release() (see memoryStore()), or false to turn deduplication off",
    );
  }
  return dedupe;
}

function resolveTimeout(ms: number): number {
  if (typeof ms !== "number" || !(ms > 0) || Number.isNaN(ms)) {
    throw new ConfigError(`handlerTimeoutMs must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return ms;
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

function resolveInbox(inbox: unknown): Inbox | undefined {
  if (inbox === undefined) return undefined;
  const methods = ["enqueue", "startWorker", "list", "get", "replay", "close"];
  if (!isObject(inbox) || methods.some((method) => typeof inbox[method] !== "function")) {
    throw new ConfigError('inbox must be an inbox such as bullmqInbox({ connection }) from "imagegen-webhooks/bullmq"');
  }
  return inbox as unknown as Inbox;
}

function resolveGenerations(generations: unknown, inbox: Inbox | undefined, store: DedupeStore | undefined): GenerationStore | undefined {
  if (generations === false) return undefined;
  if (generations !== undefined) {
    if (!isGenerationStore(generations)) {
      throw new ConfigError(
        "generations must be a store with advance() (see redisStore()), or false to fire every delivery's generation events",
      );
    }
    return generations;
  }
  if (inbox?.generations) return inbox.generations;
  return isGenerationStore(store) ? store : new MemoryGenerations();
}

function isGenerationStore(value: unknown): value is GenerationStore {
  return isObject(value) && typeof value.advance === "function";
}

function resolveApi(provider: AnyProvider, credential: unknown, apiBaseUrl: unknown): ProviderApiSettings | undefined {
  const { name } = provider;
  if (apiBaseUrl !== undefined && (typeof apiBaseUrl !== "string" || !/^https?:\/\/[^/]/.test(apiBaseUrl))) {
    throw new ConfigError(
      `providers.${name}.apiBaseUrl must be an http(s) origin, e.g. "${provider.apiBaseUrl ?? "https://api.example.com"}"`,
    );
  }
  if (credential === undefined) return undefined;
  if (typeof credential !== "string" || credential === "")
    throw new ConfigError(`providers.${name}: the API credential must be a non-empty string`);
  if (!provider.fetchGeneration) {
    throw new ConfigError(
      `provider ${name} has no API to read a generation back${name === "crazyhorse" ? " (crazyhorse.ai documents its webhook only)" : " (its definition has no fetchGeneration)"}: remove its API credential`,
    );
  }
  const baseUrl = apiBaseUrl ?? provider.apiBaseUrl;
  if (baseUrl === undefined) throw new ConfigError(`providers.${name}.apiBaseUrl is needed: its definition names no API origin`);
  return { baseUrl, credential };
}

const DEFAULT_RECONCILE = { afterMs: 10 * 60_000, everyMs: 60_000, timeoutMs: 10_000 };

function resolveReconcile(reconcile: unknown, providers: Map<string, ResolvedProvider>): ResolvedOptions["reconcile"] {
  if (reconcile === undefined) return undefined;
  if (!isObject(reconcile)) throw new ConfigError("reconcile must be an object, e.g. { afterMs: 600000, everyMs: 60000 }");
  rejectUnknownKeys(reconcile, Object.keys(DEFAULT_RECONCILE), "in reconcile");
  const settings = { ...DEFAULT_RECONCILE, ...(reconcile as ReconcileOptions) };
  for (const [key, value] of Object.entries(settings)) {
    if (typeof value !== "number" || !(value > 0) || !Number.isFinite(value))
      throw new ConfigError(`reconcile.${key} must be a positive number of milliseconds`);
  }
  if (![...providers.values()].some((provider) => provider.api)) {
    throw new ConfigError(
      'reconcile needs a provider it can read back: set providers.replicate.apiToken or providers["all-images"].apiKey (crazyhorse.ai documents no such API)',
    );
  }
  return settings;
}

function resolveKeepImages(options: unknown, platform: Platform): ImageKeeper {
  if (!platform.imageKeeper) {
    throw new ConfigError(
      'keepImages needs node:http, which imagegen-webhooks/web does without: import createWebhooks from "imagegen-webhooks" on Node',
    );
  }
  try {
    return platform.imageKeeper(options);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}
