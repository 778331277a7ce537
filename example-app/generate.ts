import { setTimeout as sleep } from "node:timers/promises";
import { json, Router, type Request } from "express";
import { GenerationWaitError, type Webhooks } from "imagegen-webhooks";
import { playJob, simulateJob } from "imagegen-webhooks/testing";
import type { Logger } from "pino";
import { DEMO_REPLICATE_API_TOKEN, FAKE_REPLICATE_PATH, type FakeReplicateApi } from "./fake-replicate";
import type { FeedPublisher } from "./shared-feed";

/** The fake API's create call: `POST /fake-replicate/v1/predictions`, as Replicate's. */
const CREATE_PATH = `${FAKE_REPLICATE_PATH}/v1/predictions`;
/** How long the page's request waits for its generation before it answers 504. */
const WAIT_MS = 60_000;
/** What the page asks for: the fake prediction is made of it, and its card is captioned with it. */
const PROMPT = "a lighthouse at dusk";

export interface GenerateOptions {
  webhooks: Webhooks;
  /** The fake Replicate API's predictions, which the receiver reads back from. */
  replicateApi: FakeReplicateApi;
  replicateSigningSecret: string;
  imageBaseUrl: string;
  timeScale: number;
  logger: Logger;
  /** This server's own origin as it reaches itself (never from the Host header). */
  selfUrl: (req: Request) => string;
  /** Where the pages hear of it: a `tracked` report once the generation is tracked, before any webhook. */
  reports: FeedPublisher;
}

/**
 * The submit-track-wait pattern, played for the page's Generate button: `POST /generate` creates a
 * prediction through the fake Replicate API the app serves (as an app calls Replicate), tracks it
 * with the requester's metadata, and answers once `wait()` resolves. The fake API sends only the
 * final webhook (`webhook_events_filter: ["completed"]`); with `?outcome=lost` it never sends it,
 * and the generation is recovered by reconciliation from the track alone.
 */
export function generateRoutes(options: GenerateOptions): { router: Router; close: () => Promise<void> } {
  const abort = new AbortController();
  const running = new Set<Promise<unknown>>();
  const router = Router();

  // Replicate's create call, faked: the job plays on its own, and only its final webhook is sent (or lost).
  router.post(CREATE_PATH, json(), (req, res, next) => {
    if (req.get("authorization") !== `Bearer ${DEMO_REPLICATE_API_TOKEN}`) {
      res.status(401).json({ title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 });
      return;
    }
    const lost = req.query.lost === "true";
    const { input } = (req.body ?? {}) as { input?: { prompt?: unknown } };
    const prompt = typeof input?.prompt === "string" ? input.prompt : PROMPT;
    const job = simulateJob("replicate", {
      outcome: "completed",
      retry: false,
      prompt,
      imageExtension: "png",
      imageBaseUrl: options.imageBaseUrl,
    });
    const first = job.deliveries[0]!;
    const last = job.deliveries.at(-1)!;
    const totalMs = job.deliveries.reduce((sum, delivery) => sum + delivery.delayMs, 0) * options.timeScale;
    // Known to the API before the create call answers, as Replicate's prediction is, and before it ends.
    const playing = options.replicateApi
      .record(first.body)
      .then(() => res.status(201).json(first.body))
      .then(() => sleep(totalMs, undefined, { signal: abort.signal }))
      .then(async () => {
        // The prediction has ended: the API says so from now on, whether its webhook is sent or lost.
        await options.replicateApi.record(last.body);
        if (lost) {
          options.logger.info({ job: job.id }, `prediction ${job.id} ended; its only webhook was lost on purpose`);
          return;
        }
        await playJob(
          { ...job, deliveries: [{ ...last, delayMs: 0 }] },
          { url: `${options.selfUrl(req)}/webhooks/replicate`, signingSecret: options.replicateSigningSecret, signal: abort.signal },
        );
      })
      .catch((err: unknown) => {
        if (!res.headersSent) next(err);
        else if (!abort.signal.aborted) options.logger.error({ err, job: job.id }, `the fake prediction ${job.id} stopped`);
      })
      .finally(() => running.delete(playing));
    running.add(playing);
  });

  // What the app does in its own request: create, track with its metadata, wait.
  router.post("/generate", (req, res, next) => {
    const lost = req.query.outcome === "lost";
    const started = Date.now();
    const create = `${options.selfUrl(req)}${CREATE_PATH}${lost ? "?lost=true" : ""}`;
    (async () => {
      const created = await fetch(create, {
        method: "POST",
        headers: { authorization: `Bearer ${DEMO_REPLICATE_API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ input: { prompt: PROMPT }, webhook_events_filter: ["completed"] }),
      });
      const prediction = (await created.json()) as { id: string };
      const metadata = { requestedBy: "the demo page", requestedAt: new Date(started).toISOString() };
      await options.webhooks.generations.track("replicate", prediction.id, { metadata });
      options.reports.publish("tracked", { provider: "replicate", generationId: prediction.id, caption: PROMPT, metadata, at: new Date() });
      try {
        const generation = await options.webhooks.generations.wait("replicate", prediction.id, {
          timeoutMs: WAIT_MS,
          signal: abort.signal,
        });
        res.json({ waitedMs: Date.now() - started, generation });
      } catch (err) {
        if (err instanceof GenerationWaitError) res.status(504).json({ error: err.message, id: prediction.id });
        else throw err;
      }
    })().catch(next);
  });

  return {
    router,
    async close() {
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}
