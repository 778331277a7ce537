import type { SimulatedOutcome, SimulationContext, SimulationRandom } from "./provider-testing";

/** One delivery in a simulated job's plan: when it is sent, its event, and how many images it carries. */
export interface SimulationStep {
  /** How long the provider waits after the previous delivery. */
  delayMs: number;
  event: string;
  /** Images delivered so far. */
  delivered: number;
}

/** The event names of a provider that reports a job's progress image by image. */
export interface ProgressEvents {
  created: string;
  active: string;
  /** Sent again each time an image is added. */
  progress: string;
  completed: string;
  failed: string;
}

/** Prompts for providers that take one, when the job was given none. */
export const SAMPLE_PROMPTS: readonly string[] = [
  "a lighthouse at dusk, oil painting",
  "a red fox in fresh snow, watercolor",
  "a neon-lit street in the rain, cinematic",
  "a cabin by a mountain lake at sunrise",
  "an astronaut tending a greenhouse on Mars",
  "a koi pond seen from above, ukiyo-e style",
  "a hot-air balloon over lavender fields",
  "a tiny robot reading a book in a library",
];

/** Images a job makes before it ends: all of them, or for a failed job some, at least one where there is more than one. */
export function imagesMade(random: SimulationRandom, images: number, outcome: SimulatedOutcome): number {
  return outcome === "failed" ? random.int(Math.min(1, images - 1), images - 1) : images;
}

/**
 * The plan of a provider that reports progress image by image: created, active, `progress` once
 * per image made, then completed (or failed partway), at a provider's pace (a queue wait, then a
 * few seconds per image). `failedKeepsImages: false` for a provider whose failed job delivers none.
 * A `simulate` hook maps each step to a body.
 */
export function progressSteps(
  job: Pick<SimulationContext, "random" | "images" | "outcome">,
  events: ProgressEvents,
  { failedKeepsImages = true }: { failedKeepsImages?: boolean } = {},
): SimulationStep[] {
  const { random, images, outcome } = job;
  const made = imagesMade(random, images, outcome);
  const steps: SimulationStep[] = [
    { delayMs: 0, event: events.created, delivered: 0 },
    { delayMs: random.int(400, 900), event: events.active, delivered: 0 },
  ];
  for (let i = 1; i <= made; i++) steps.push({ delayMs: random.int(600, 1300), event: events.progress, delivered: i });
  const failed = outcome === "failed";
  steps.push({
    delayMs: random.int(300, 700),
    event: failed ? events.failed : events.completed,
    delivered: failed && !failedKeepsImages ? 0 : made,
  });
  return steps;
}
