import { ed25519TestKeys, signFalDelivery, signIdeogramDelivery, type Ed25519TestKeys } from "imagegen-webhooks/testing";

/** The account the demo's simulated fal.ai deliveries are for, and the receiver's `userId`. */
export const DEMO_FAL_USER_ID = "demo-fal-user";
/** The same for Ideogram. */
export const DEMO_IDEOGRAM_USER_ID = "demo-ideogram-user";

/** The demo's providers that sign with keys of their own. */
export const SIGNED_PROVIDERS = ["fal", "ideogram"] as const;
export type SignedProvider = (typeof SIGNED_PROVIDERS)[number];

export function isSignedProvider(name: string): name is SignedProvider {
  return (SIGNED_PROVIDERS as readonly string[]).includes(name);
}

/** Signs the exact body sent, as the provider does. */
export type Signer = (rawBody: string | Uint8Array) => Record<string, string>;

/**
 * The providers that sign with Ed25519 keys of their own (fal.ai, Ideogram): the demo plays the
 * provider, so it makes a key pair at start, signs its simulated deliveries with the private half,
 * and gives the receiver the public half as static `jwks` (a real deployment fetches the provider's
 * JWKS instead). Each process has its own pair: a delivery is verified by the process it was sent
 * to, which is the one that signed it.
 */
export function demoSignedProviders(): {
  options: Record<SignedProvider, { userId: string; jwks: Ed25519TestKeys["jwks"] }>;
  signers: Record<SignedProvider, Signer>;
} {
  const keys = ed25519TestKeys("demo-key");
  const { privateKey, kid, jwks } = keys;
  return {
    options: { fal: { userId: DEMO_FAL_USER_ID, jwks }, ideogram: { userId: DEMO_IDEOGRAM_USER_ID, jwks } },
    signers: {
      fal: (rawBody) => signFalDelivery(rawBody, { privateKey, userId: DEMO_FAL_USER_ID }),
      ideogram: (rawBody) => signIdeogramDelivery(rawBody, { privateKey, kid, userId: DEMO_IDEOGRAM_USER_ID }),
    },
  };
}
