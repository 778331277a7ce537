/**
 * What a provider supplies so that `imagegen-webhooks/testing` and the CLI can play its part:
 * types only, so that a provider module refers to them without pulling any testing code into the
 * main entry. The built-in providers keep theirs in a `<provider>.testing.ts` beside them, which
 * only lib/entries/testing imports; a user's provider passes them to `defineProvider` as `testing`.
 */

/** How a simulated job ends. */
export type SimulatedOutcome = "completed" | "failed";

/** One image of a simulated job. */
export interface SimulatedImage {
  /** Relative to the provider's storage, e.g. `<user>/<code>/generate-1.png`. */
  path: string;
  /** What a picture of it would show: the prompt, or crazyhorse's parameters. */
  caption: string;
}

/** The seeded dice a simulation draws from: the same seed, the same draws, the same job. */
export interface SimulationRandom {
  /** A number from 0 (included) to 1 (excluded). */
  next(): number;
  /** A whole number from `min` to `max`, both included. */
  int(min: number, max: number): number;
  /** One of the items. */
  pick<T>(items: readonly T[]): T;
  /** `length` lower-case hexadecimal digits. */
  hex(length: number): string;
}

/** What a provider's `simulate` gets: the job `simulateJob` was asked for, with every choice made. */
export interface SimulationContext {
  /** Draw every id, delay and choice from it, so that a seed replays the job. */
  random: SimulationRandom;
  /** Images the job generates, 1 to 16. */
  images: number;
  outcome: SimulatedOutcome;
  /** The prompt asked for; when unset, the provider chooses one (or has none). */
  prompt?: string;
  /** The images' file extension, e.g. `png`. */
  imageExtension: string;
  /** Where a provider that sends absolute image URLs serves them; when unset, its own storage. */
  imageBaseUrl?: string;
  /** When the job starts; the deliveries' timestamps follow it. */
  startAt: Date;
}

/** One delivery of a provider's simulated job, before `simulateJob` adds its retry. */
export interface ScriptedDelivery<Payload> {
  /** How long the provider waits after the previous delivery before sending this one. */
  delayMs: number;
  /** The value of the provider's event field in `body`, e.g. `print.completed`. */
  event: string;
  body: Payload;
  /** The Standard Webhooks `webhook-id` a signing provider sends this delivery under. */
  webhookId?: string;
}

/** A job as a provider's `simulate` plays it: the generation, its images and its deliveries in order. */
export interface SimulationScript<Payload> {
  /** The generation's id, as the provider's normalization reports it. */
  id: string;
  caption: string;
  /** Every image the job makes, including those a failed job never delivers. */
  images: SimulatedImage[];
  deliveries: ScriptedDelivery<Payload>[];
}

/**
 * A provider's testing hooks: how to build one valid delivery, which payload field names its event,
 * and, optionally, how it plays a whole job. `buildDelivery`, `simulateJob` and the CLI's `send`
 * and `simulate` use nothing else of a provider's testing.
 */
export interface ProviderTesting<Payload> {
  /** The top-level payload field whose value selects the event, e.g. `type`: the CLI's `send <provider> <event>` sets it. */
  readonly eventField: string;
  /** Where the provider sends its token, when it sends one: the CLI sends `--secret` there unless `--token-in` says otherwise. Default `header` (`X-Webhook-Token`). */
  readonly tokenIn?: "header" | "query" | "bearer";
  /** A valid delivery with fresh ids (two builds are two deliveries), `overrides` laid over it. */
  example(overrides: Partial<Payload>): Payload;
  /** A whole job, delivery by delivery; without it the provider's deliveries can be built and sent, not simulated. */
  simulate?(job: SimulationContext): SimulationScript<Payload>;
  /**
   * For a provider that signs with Ed25519 (`ed25519Jwks`): the headers its signed message names
   * that come from the delivery itself (fal.ai's request id, Ideogram's generation id). The CLI's
   * `--private-key` sends them, with the account, the time and the key id, and signs them all.
   */
  signedHeaders?(payload: Payload): Record<string, string>;
}
