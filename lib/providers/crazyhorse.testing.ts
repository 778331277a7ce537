import { randomBytes } from "node:crypto";
import { imagesMade } from "./job-plan";
import type { CrazyhorsePayload } from "./crazyhorse";
import type { ProviderTesting, SimulationContext, SimulationScript } from "./provider-testing";

/** The example delivery of crazyhorse.ai's own page. */
export const crazyhorseExample = {
  state: "DONE",
  code: "89e78b15d29165008cbfd61ba3bb679f",
  image: "ced3e3051c203193952d8b51fe5c9d82/89e78b15d29165008cbfd61ba3bb679f.png",
  generateImageUrls: ["ced3e3051c203193952d8b51fe5c9d82/89e78b15d29165008cbfd61ba3bb679f/generate-1.png"],
  params: { hair: "red", clothes: "t-shirt, jean", number: 1 },
  createdAt: "2023-10-09T11:11:07.174Z",
} as const satisfies CrazyhorsePayload;

/**
 * A valid crazyhorse delivery in the given state (default `DONE`), with a fresh job `code` so
 * that two builds are two jobs. A completed state carries its images; others carry none.
 */
export function crazyhorseDelivery(overrides: Partial<CrazyhorsePayload> = {}): CrazyhorsePayload {
  const code = overrides.code ?? randomBytes(16).toString("hex");
  const state = overrides.state ?? "DONE";
  const userHash = randomBytes(16).toString("hex");
  const completed = /^(done|completed|success)$/i.test(state);
  const base: CrazyhorsePayload = {
    state,
    code,
    image: `${userHash}/${code}.png`,
    ...(completed && { generateImageUrls: [`${userHash}/${code}/generate-1.png`] }),
    params: structuredClone(crazyhorseExample.params),
    createdAt: new Date().toISOString(),
  };
  return { ...base, ...overrides };
}

const PARAMS = [
  { hair: "red", clothes: "t-shirt, jean", background: "beach", pose: "standing" },
  { hair: "black", clothes: "leather jacket", background: "city at night", pose: "walking" },
  { hair: "blonde", clothes: "summer dress", background: "garden", pose: "sitting" },
  { hair: "silver", clothes: "raincoat", background: "harbour", pose: "portrait" },
  { hair: "brown", clothes: "hoodie", background: "forest", pose: "looking back" },
];

/** `WAITING`, `PROCESSING`, then `DONE` with every image (or `FAILED`): crazyhorse reports no progress. */
function simulate(job: SimulationContext): SimulationScript<CrazyhorsePayload> {
  const { random, images: imageCount, outcome, imageExtension: extension } = job;
  // Unused, since a failed crazyhorse job delivers nothing, but drawn all the same: without it
  // every seeded failed job would differ from the one the same seed has always played.
  imagesMade(random, imageCount, outcome);
  const failed = outcome === "failed";
  const steps = [
    { delayMs: 0, event: "WAITING", delivered: 0 },
    { delayMs: random.int(500, 1200), event: "PROCESSING", delivered: 0 },
    { delayMs: random.int(1800, 3200), event: failed ? "FAILED" : "DONE", delivered: failed ? 0 : imageCount },
  ];
  const code = random.hex(32);
  const user = random.hex(32);
  const params = { ...random.pick(PARAMS), number: imageCount };
  const caption = [`${params.hair} hair`, params.clothes, params.pose, params.background].join(", ");
  const images = Array.from({ length: imageCount }, (_, i) => ({ path: `${user}/${code}/generate-${i + 1}.${extension}`, caption }));
  const createdAt = job.startAt.toISOString();
  const deliveries = steps.map(({ delayMs, event, delivered }) => ({
    delayMs,
    event,
    body: {
      state: event,
      code,
      image: `${user}/${code}.${extension}`,
      ...(delivered > 0 && { generateImageUrls: images.slice(0, delivered).map((image) => image.path) }),
      params,
      createdAt,
    },
  }));
  return { id: code, caption, images, deliveries };
}

/** crazyhorse's testing hooks: its state names the event. @internal */
export const crazyhorseTesting = {
  eventField: "state",
  example: crazyhorseDelivery,
  simulate,
} satisfies ProviderTesting<CrazyhorsePayload>;
