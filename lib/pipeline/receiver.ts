import type { EventEmitter } from "node:events";
import type { ImageKeeper } from "../images/keeper";
import type { Inbox } from "../inbox/inbox";
import type { OpenGenerations } from "./open-generations";
import type { Logger } from "../logging/logger";
import type { Telemetry } from "../telemetry/index";
import type { AnyProvider } from "../providers/provider";
import type { DedupeStore, GenerationStore } from "../stores/store";
import type { TokenVerifier } from "./authenticate";
import type { SignatureVerifier } from "./signature";
import type { AnyWebhookEvent } from "../events/event-map";
import type { AllowList } from "./source-ip";
import type { Validator } from "./validate";

/** One provider as the pipeline uses it: everything checked and precomputed once, by `resolveOptions`. */
export interface ResolvedProvider {
  name: string;
  provider: AnyProvider;
  path: string;
  /** Checks the presented token against the secrets; absent: no token required. */
  token: TokenVerifier | undefined;
  signature: SignatureVerifier | undefined;
  allowedIps: AllowList | undefined;
  validate: Validator;
  resolveImageUrl: (path: string) => string;
  /** Where and how to read a generation back from the provider's API; absent without a credential. */
  api: ProviderApiSettings | undefined;
}

/** A provider's API, for reading generations back. */
export interface ProviderApiSettings {
  baseUrl: string;
  credential: string;
  /** The credential in the header the provider declares. */
  headers: Record<string, string>;
}

/** The options once checked: what every stage reads. */
export interface ResolvedOptions {
  providers: Map<string, ResolvedProvider>;
  routes: Map<string, ResolvedProvider>;
  limit: number;
  store: DedupeStore | undefined;
  dedupeFailOpen: boolean;
  handlerTimeoutMs: number;
  logger: Logger;
  /** Where checked deliveries are stored for a worker; absent: they are handled in the request. */
  inbox: Inbox | undefined;
  /** Where each generation's furthest status is kept; absent: every delivery's generation events fire. */
  generations: GenerationStore | undefined;
  /** When open generations are read back from their provider's API; absent: never on its own. */
  reconcile: { afterMs: number; everyMs: number; timeoutMs: number; maxBytes: number } | undefined;
  /** Downloads each generation's images before its events fire; absent: images are not kept. */
  keepImages: ImageKeeper | undefined;
}

/** Everything one receiver shares between its deliveries. */
export interface Receiver {
  readonly options: ResolvedOptions;
  readonly emitter: EventEmitter;
  closing: boolean;
  /** Work still running for deliveries already answered or being answered, which `close()` waits for. */
  readonly inFlight: Set<Promise<unknown>>;
  /** The deliveries whose listeners are still running (past their first tick), for `close()` to abort and name. */
  readonly runs: Set<RunningDelivery>;
  /** The generations heard of and not ended, to read back from their provider's API (`reconcile`). */
  readonly openGenerations?: OpenGenerations;
  /** Where spans and metrics go; absent while the host has no OpenTelemetry SDK, and nothing is recorded. */
  readonly telemetry: Telemetry | undefined;
}

/**
 * A delivery whose listeners are running, as `close()` reads it: the event whose signal it aborts
 * and the key it logs. (A `Delivery` is one; naming only these keeps receiver.ts below delivery.ts.)
 */
export interface RunningDelivery {
  readonly event: AnyWebhookEvent;
  readonly key: string;
}

/** Keeps `work` in the receiver's in-flight set until it settles. */
export function track<T>(receiver: Receiver, work: Promise<T>): Promise<T> {
  receiver.inFlight.add(work);
  const forget = () => void receiver.inFlight.delete(work);
  work.then(forget, forget);
  return work;
}
