// The built-in providers' testing hooks and delivery builders, one line per provider beside its
// line in ./index.ts: kept apart from the providers so that the main entry never loads them. Only
// lib/testing (the testing entry, the CLI) imports this file; the testing entry exports it whole.
import { allImagesTesting } from "./all-images.testing";
import { bflTesting } from "./bfl.testing";
import { crazyhorseTesting } from "./crazyhorse.testing";
import type { ProviderName, ProviderPayloads } from "./index";
import { leonardoTesting } from "./leonardo.testing";
import type { ProviderTesting } from "./provider-testing";
import { replicateTesting } from "./replicate.testing";
import { openaiTesting } from "./openai.testing";
import { falTesting } from "./fal.testing";
import { ideogramTesting } from "./ideogram.testing";

export { crazyhorseDelivery, crazyhorseExample } from "./crazyhorse.testing";
export { allImagesDelivery, allImagesExample } from "./all-images.testing";
export { replicateDelivery, replicateExample } from "./replicate.testing";
export { leonardoDelivery, leonardoExample } from "./leonardo.testing";
export { bflDelivery, bflExample } from "./bfl.testing";
export { openaiDelivery, openaiExample } from "./openai.testing";
export { falDelivery, falExample } from "./fal.testing";
export { ideogramDelivery, ideogramExample } from "./ideogram.testing";

/** Typed over every built-in name: a built-in provider without its hooks, simulation included, does not compile. */
export type BuiltInTesting = {
  readonly [P in ProviderName]: Required<Omit<ProviderTesting<ProviderPayloads[P]>, "tokenIn" | "signedHeaders">> &
    Pick<ProviderTesting<ProviderPayloads[P]>, "tokenIn" | "signedHeaders">;
};

/** @internal The built-in providers' testing hooks, by name. */
export const builtInTesting: BuiltInTesting = {
  crazyhorse: crazyhorseTesting,
  "all-images": allImagesTesting,
  replicate: replicateTesting,
  leonardo: leonardoTesting,
  bfl: bflTesting,
  openai: openaiTesting,
  fal: falTesting,
  ideogram: ideogramTesting,
};
