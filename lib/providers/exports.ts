// What the entries export of the built-in providers: each one's schema and payload types, one line
// per provider, naming what it publishes (a module's other exports stay inside the package).
// entries/shared-exports.ts exports this file whole.
export type { BuiltInProviders, ProviderName, ProviderPayloads } from "./index";
export { crazyhorseSchema, type CrazyhorsePayload, type CrazyhorseCompletedPayload } from "./crazyhorse";
export { allImagesSchema, type AllImagesPayload } from "./all-images";
export { replicateSchema, type ReplicatePayload } from "./replicate";
export { leonardoSchema, type LeonardoPayload, type LeonardoGeneration } from "./leonardo";
export { bflSchema, type BflPayload } from "./bfl";
export { openaiSchema, openaiResponseSchema, type OpenAIPayload, type OpenAIResponse } from "./openai";
export { falSchema, falSignature, fetchFalRequest, FAL_JWKS_URL, type FalPayload } from "./fal";
export { ideogramSchema, ideogramSignature, IDEOGRAM_JWKS_URL, type IdeogramPayload } from "./ideogram";
