export { bodySigner, signDelivery, type SignOptions, type StandardWebhookHeaders } from "./signer";
export { sendDelivery, type SendOptions, type SentResponse } from "./send";
export { buildDelivery } from "./build-delivery";
export type { TestedProvider } from "./provider-hooks";
export * from "../../providers/testing-exports";
export {
  ed25519TestKeys,
  signEd25519Delivery,
  signFalDelivery,
  signIdeogramDelivery,
  type Ed25519SignOptions,
  type Ed25519TestKeys,
  type ProviderSignOptions,
} from "./ed25519-signer";
export {
  playJob,
  simulatedProviders,
  simulateJob,
  type PlayedDelivery,
  type PlayJobOptions,
  type SimulatedDelivery,
  type SimulatedImage,
  type SimulatedJob,
  type SimulatedOutcome,
  type SimulatedProvider,
  type SimulateJobOptions,
} from "./simulate";
export { progressSteps, SAMPLE_PROMPTS, type ProgressEvents, type SimulationStep } from "../../providers/job-plan";
export type {
  ProviderTesting,
  ScriptedDelivery,
  SimulationContext,
  SimulationRandom,
  SimulationScript,
} from "../../providers/provider-testing";
