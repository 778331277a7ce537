// What both entry points export: the API that runs wherever web APIs do (the Webhooks class, the
// options, events, errors, stores, providers and their types). Each entry adds its own
// createWebhooks and what only its runtime has; nothing here may import from `node:`, since the web
// entry's module graph holds none (__tests__/runtimes/web-entry.test.ts bundles it).
export {
  Webhooks,
  type CloseOptions,
  type ConfiguredProviders,
  type CreateWebhooks,
  type Deliveries,
  type WithCustomProviders,
} from "../webhooks/webhooks";
export type { FetchOptions } from "../http/fetch-handler";
export type { ReconcileResult } from "../reconcile/reconciler";
export {
  GenerationWaitError,
  MAX_METADATA_BYTES,
  type Generations,
  type TrackedGeneration,
  type TrackOptions,
  type WaitOptions,
} from "../generations/generations";
export { ProviderApiError, type ProviderApi } from "../providers/provider-api";
// Every type of the Inbox interface: what an inbox is, stores and answers.
export type * from "../inbox/inbox";
export type { WebhooksOptions, ProviderOptions, ReconcileOptions, SignatureOptions } from "../options/index";
export type {
  AnyWebhookEvent,
  DeadDelivery,
  EventOrigin,
  GeneratedImage,
  ImageFailed,
  Generation,
  GenerationStatus,
  InvalidDelivery,
  ProviderSet,
  SchemaError,
  WebhookEvent,
  WebhookEventMap,
  WebhookEventName,
  WebhookListener,
} from "../events/event-map";
export { ConfigError, InvalidListenerError, WebhookError, WebhookHandlerError, type Problem, type WebhookErrorCode } from "../errors";
export type { Logger } from "../logging/logger";
export type { ReceiveInput } from "../pipeline/index";
export type { WebhookResponse } from "../http/response";
export type { HeadersInput, QueryInput } from "../http/headers";
export { MemoryStore, memoryStore, type MemoryStoreOptions } from "../stores/memory-store";
export type {
  Advance,
  ClaimResult,
  DedupeStore,
  GenerationRecord,
  GenerationStore,
  HeardOf,
  LeasingStore,
  TrackedInfo,
  TrackedStatus,
  TrackEntry,
  TrackingStore,
} from "../stores/store";
export { MemoryGenerations, type MemoryGenerationsOptions } from "../stores/memory-generations";
export { defineProvider, type ProviderDefinition } from "../providers/define-provider";
// The signature schemes a provider declares in its `authentication`: the building blocks of the built-in ones.
export {
  DEFAULT_TOLERANCE_SECONDS,
  SignatureRejection,
  type SignatureRejectionCode,
  type SignatureScheme,
  type SignatureVerifier,
} from "../signatures/scheme";
export {
  ed25519Jwks,
  signedLines,
  type Ed25519JwksDefinition,
  type Ed25519JwksOptions,
  type Ed25519JwksScheme,
  type SignedDelivery,
} from "../signatures/ed25519-jwks";
export { hmacSignature, type HmacSignatureDefinition, type HmacSignatureScheme } from "../signatures/hmac-signature";
// What a scheme's verifier is given to compute with: node:crypto's or Web Crypto's, as the entry picks.
export type { Crypto, Hmac, MaybePromise } from "../crypto/crypto";
export type {
  AnyProvider,
  ApiCredential,
  ReadBackCompletion,
  Authentication,
  AuthenticationMethod,
  CredentialOption,
  DeliveryContext,
  HmacSignatureDeclaration,
  NormalizeContext,
  Provider,
} from "../providers/provider";
// Each built-in provider's schema and payload types.
export * from "../providers/exports";
export { openapiDocument, type OpenApiDocument } from "../webhooks/openapi";
