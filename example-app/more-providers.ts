// Leonardo.ai and Black Forest Labs in the demo: their options, and how the simulator authenticates
// as each (Leonardo's key as Authorization: Bearer, BFL's X-BFL-Signature over the body).
import { bodySigner, type PlayJobOptions } from "imagegen-webhooks/testing";

/** The demo's Leonardo webhook key: public, like the demo's other tokens. */
export const DEMO_LEONARDO_KEY = "demo-leonardo-webhook-key";
/** The demo's BFL webhook_secret: public, like the demo's other secrets. */
export const DEMO_BFL_SECRET = "demo-bfl-webhook-secret";

export const MORE_PROVIDERS = ["leonardo", "bfl"] as const;
export type MoreProvider = (typeof MORE_PROVIDERS)[number];

export function isMoreProvider(name: string): name is MoreProvider {
  return (MORE_PROVIDERS as readonly string[]).includes(name);
}

/** Their `providers` options in the demo's receiver. */
export function moreProviderOptions() {
  return {
    leonardo: { secret: DEMO_LEONARDO_KEY },
    // BFL's sample URLs expire after ten minutes: the demo keeps every image it can (keepImages), BFL's included.
    bfl: { signature: { secret: DEMO_BFL_SECRET } },
  };
}

/** How the simulator's playJob authenticates as each, as the provider does. */
export function moreProviderAuth(provider: MoreProvider): Pick<PlayJobOptions, "secret" | "tokenIn" | "sign"> {
  if (provider === "leonardo") return { secret: DEMO_LEONARDO_KEY, tokenIn: "bearer" };
  return { sign: bodySigner("bfl", DEMO_BFL_SECRET)! };
}
