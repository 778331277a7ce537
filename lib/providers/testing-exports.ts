// The built-in providers' testing halves, one line per provider beside its entry in ./index.ts:
// each exports its example, its delivery builder and its hooks (`<name>Testing`, camel-cased,
// which lib/entries/testing/provider-hooks.ts finds by the provider's name). Kept apart from the
// providers so that the main entry never loads them: only lib/entries/testing (the testing entry,
// the CLI) imports this file, and the testing entry exports it whole.
export * from "./crazyhorse.testing";
export * from "./all-images.testing";
export * from "./replicate.testing";
export * from "./leonardo.testing";
export * from "./bfl.testing";
export * from "./openai.testing";
export * from "./fal.testing";
export * from "./ideogram.testing";
