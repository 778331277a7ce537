// `imagegen-webhooks/web`: the receiver for runtimes with web APIs only (Cloudflare Workers, Vercel's
// edge, Deno Deploy, a browser's service worker). The same `Webhooks` class as the main entry, with
// Web Crypto instead of node:crypto; it answers through `webhooks.fetch(request)`. Its module graph
// imports nothing from `node:` (__tests__/runtimes/web-entry.test.ts bundles it for the browser).
import { webPlatform } from "../platform/web";
import { createWebhooksFor } from "../webhooks";

/**
 * Creates a receiver that needs web APIs only. Every option is checked here, as in the main
 * entry's `createWebhooks`; `keepImages`, which needs node:http, is refused. `allowedIps` means
 * what it means on Node, but a web Request carries no address: pass the sender's as
 * `webhooks.fetch(request, { ip })`, or every delivery to that provider is refused `403`.
 * On Cloudflare Workers, call it at the module's top level: the schemas are compiled to code at
 * start-up, which Workers allow only then.
 */
export const createWebhooks = createWebhooksFor(webPlatform);

export { Webhooks, type ConfiguredProviders, type CreateWebhooks, type Deliveries, type WithCustomProviders } from "../webhooks";
export type { FetchOptions } from "../http/fetch-handler";
export type { WebhooksOptions, ProviderOptions, SignatureOptions } from "../options/index";
export type {
  AnyWebhookEvent,
  DeadDelivery,
  GeneratedImage,
  Generation,
  GenerationStatus,
  InvalidDelivery,
  ProviderSet,
  SchemaError,
  WebhookEvent,
  WebhookEventMap,
  WebhookEventName,
  WebhookListener,
} from "../events";
export { WebhookError, WebhookHandlerError, type Problem, type WebhookErrorCode } from "../errors";
export type { Logger } from "../logger";
export type { WebhookResponse } from "../response";
export { MemoryStore, memoryStore, type MemoryStoreOptions } from "../stores/memory-store";
export type { Advance, ClaimResult, DedupeStore, GenerationStore, TrackedStatus } from "../stores/store";
export { MemoryGenerations, type MemoryGenerationsOptions } from "../stores/memory-generations";
export type { BuiltInProviders, ProviderName, ProviderPayloads } from "../providers/index";
export { defineProvider, type ProviderDefinition } from "../providers/define-provider";
export type { AnyProvider, AuthenticationMethod, DeliveryContext, NormalizeContext, Provider } from "../providers/provider";
export { crazyhorseSchema, type CrazyhorsePayload, type CrazyhorseCompletedPayload } from "../providers/crazyhorse";
export { allImagesSchema, type AllImagesPayload } from "../providers/all-images";
export { replicateSchema, type ReplicatePayload } from "../providers/replicate";
