/**
 * The pipeline of one delivery, one module per stage, in the order the README's "HTTP answers"
 * gives: route, raw body, content type, authenticate, parse, validate, dedupe, emit, answer. This file is its only entry for the layers
 * above it (the HTTP adapters, the façade in `webhooks/`, the options that build its checks, the reconciler, the inbox worker); which
 * layers the stages may import is eslint.config.mjs's LAYERS, checked by import-x/no-restricted-paths.
 */
export { admit, receive, receiveBody, type ReceiveInput, type RequestLine } from "./receive";
export type { BodyInput } from "./check";
export { notFound, refuse } from "./refuse";
export { problemAnswer } from "./answer";
export { track, type Receiver, type ResolvedOptions, type ResolvedProvider } from "./receiver";
export { buildEvent, identify, type DeliveryIdentity, type EventSource, type RunInfo } from "./event";
export type { Delivery } from "./delivery";
export { dispatch, type Dispatched, type DispatchPolicy } from "./dispatch";
export { claimKey, NOTHING_CLAIMED } from "./dedupe";
export { toStoredDelivery } from "./store-in-inbox";
export { OpenGenerations, type OpenGeneration } from "./open-generations";
export { startInboxWorker } from "./worker";
export { leaveRuns } from "./leave-runs";
export { settleWithin, TIMED_OUT } from "./deadline";
export { logDelivery, type DeliveryOutcome } from "./report";
// The checks that options/ builds once, at start-up.
export { createTokenVerifier } from "./authenticate";
export { createSignatureVerifier, decodeSigningSecret, DEFAULT_TOLERANCE_SECONDS, type SignatureVerifier } from "./signature";
export type { AllowList } from "./source-ip";
export { compileValidator, type Validator } from "./validate";
export type { ProviderApiSettings } from "./receiver";
