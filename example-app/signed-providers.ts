import { ed25519TestKeys, signFalDelivery, type Ed25519TestKeys } from "imagegen-webhooks/testing";

/** The account the demo's simulated fal.ai deliveries are for, and the receiver's `userId`. */
export const DEMO_FAL_USER_ID = "demo-fal-user";

/** The demo's providers that sign with keys of their own. */
export type SignedProvider = "fal";

/** Signs the exact body sent, as the provider does. */
export type Signer = (rawBody: string | Uint8Array) => Record<string, string>;

/**
 * The providers that sign with Ed25519 keys of their own (fal.ai): the demo plays the provider, so
 * it makes a key pair at start, signs its simulated deliveries with the private half, and gives the
 * receiver the public half as static `jwks` (a real deployment fetches the provider's JWKS instead).
 */
export function demoSignedProviders(): {
  options: { fal: { userId: string; jwks: Ed25519TestKeys["jwks"] } };
  signers: Partial<Record<SignedProvider, Signer>>;
} {
  const keys = ed25519TestKeys("demo-key");
  return {
    options: { fal: { userId: DEMO_FAL_USER_ID, jwks: keys.jwks } },
    signers: { fal: (rawBody) => signFalDelivery(rawBody, { privateKey: keys.privateKey, userId: DEMO_FAL_USER_ID }) },
  };
}
