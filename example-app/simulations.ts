import { setTimeout as sleep } from "node:timers/promises";
import { Router, type Request } from "express";
import {
  crazyhorseDelivery,
  playJob,
  sendDelivery,
  simulateJob,
  type SimulatedProvider,
  type SimulateJobOptions,
} from "imagegen-webhooks/testing";
import type { Logger } from "pino";
import type { FakeOpenAIApi } from "./fake-openai";
import type { FakeReplicateApi } from "./fake-replicate";
import type { ListenerFault, ListenerFaults } from "./listener-faults";
import { isMoreProvider, moreProviderAuth } from "./more-providers";
import { isSignedProvider, type SignedProvider, type Signer } from "./signed-providers";

/** `finalLost`: the job ends, but its final webhook is never sent (only its API knows). */
type Choice = Pick<SimulateJobOptions, "outcome" | "retry"> & { fault?: ListenerFault; finalLost?: boolean };

/** What the page's outcome menu offers; `random` leaves it to the simulator. */
const CHOICES: Record<string, Choice> = {
  random: {},
  completed: { outcome: "completed", retry: false },
  retry: { outcome: "completed", retry: true },
  failed: { outcome: "failed", retry: false },
  // The job completes; the demo's own listener fails on it (only an inbox retries and replays).
  flaky: { outcome: "completed", retry: false, fault: "flaky" },
  dead: { outcome: "completed", retry: false, fault: "broken" },
  lost: { outcome: "completed", retry: false, finalLost: true },
};

export interface SimulatorOptions {
  /** The token of each provider that sends one. */
  secrets: { crazyhorse: string; "all-images": string };
  /** Replicate signs instead: its `whsec_` secret. */
  replicateSigningSecret: string;
  /** The providers that sign their own way (fal.ai, Ideogram), by name: how the simulator signs their deliveries. */
  signers?: Partial<Record<SignedProvider, Signer>>;
  /** Where simulated images live: all-images and Replicate send them as absolute URLs under it. */
  imageBaseUrl: string;
  timeScale: number;
  logger: Logger;
  /** Jobs playing at once; more are refused with 429, so a held-down button cannot flood the app. */
  maxRunning?: number;
  /** In inbox mode: where the `flaky` and `dead` outcomes make the demo's listener fail. Absent, they are refused. */
  faults?: ListenerFaults;
  /** Replicate's API as the simulator plays it; absent, the `lost` outcome is refused (nothing could recover it). */
  replicateApi?: FakeReplicateApi;
  /** OpenAI's API, where its responses' images are read back; absent, OpenAI is not simulated. */
  openaiApi?: FakeOpenAIApi;
  /** OpenAI signs too (Standard Webhooks): its `whsec_` secret. */
  openaiSigningSecret?: string;
}

/**
 * Plays the provider's part: each job is a sequence of authenticated deliveries POSTed over HTTP to
 * this app's own webhook routes, so the real middleware checks, dedupes and emits them.
 */
export function simulatorRoutes(options: SimulatorOptions): { router: Router; close: () => Promise<void> } {
  const running = new Set<Promise<unknown>>();
  const abort = new AbortController();
  const router = Router();

  router.post("/simulate/forged", (req, res, next) => {
    // A delivery with a token that is not the secret: the middleware must answer 401.
    // (Express 4 does not catch a rejected handler: hence the explicit next.)
    sendDelivery(`${selfUrl(req)}/webhooks/crazyhorse`, { body: crazyhorseDelivery({ state: "DONE" }), secret: "forged-token" })
      .then((response) => res.json({ status: response.status, body: response.body }))
      .catch(next);
  });

  router.post("/simulate/:provider", async (req, res) => {
    const provider = req.params.provider;
    const openai = provider === "openai" && options.openaiApi;
    const signer = isSignedProvider(provider) ? options.signers?.[provider] : undefined;
    if (!playable(provider)) {
      const names = ["crazyhorse", "all-images", "replicate", "leonardo", "bfl"].concat(
        options.openaiApi ? ["openai"] : [],
        Object.keys(options.signers ?? {}),
      );
      res.status(404).json({ error: `no provider "${provider}": simulate ${names.slice(0, -1).join(", ")} or ${names.at(-1)}` });
      return;
    }
    const { outcome = "random" } = req.query;
    const choice = typeof outcome === "string" ? CHOICES[outcome] : undefined;
    if (!choice) {
      res.status(400).json({ error: `outcome must be one of ${Object.keys(CHOICES).join(", ")}` });
      return;
    }
    const { fault, finalLost, ...simulation } = choice;
    if (fault && !options.faults) {
      res.status(409).json({ error: `the ${outcome as string} outcome needs the durable inbox: start the demo with REDIS_URL` });
      return;
    }
    // crazyhorse.ai documents no API to read a job back from; the demo fakes Replicate's only.
    if (finalLost && provider !== "replicate") {
      res.status(400).json({ error: "the lost outcome is Replicate's: only its API is faked here to recover from" });
      return;
    }
    if (finalLost && !options.replicateApi) {
      res.status(409).json({ error: "the lost outcome needs the fake Replicate API: start the demo with reconcile" });
      return;
    }
    if (running.size >= (options.maxRunning ?? 8)) {
      res.status(429).set("retry-after", "5").json({ error: "enough jobs are playing already: wait for one to end" });
      return;
    }
    const job = simulateJob(provider, { ...simulation, imageExtension: "png", imageBaseUrl: options.imageBaseUrl });
    // Stored before the first delivery is sent: any worker on the queue may run its last one.
    if (fault) await options.faults?.add(provider, job.id, fault);
    // OpenAI's API holds the response (and its images) before its webhook says it ended.
    if (openai) await openai.record({ id: job.id, status: job.outcome, images: job.images.map((image) => image.path) });
    const api = provider === "replicate" ? options.replicateApi : undefined;
    const lost = finalLost ? job.deliveries.at(-1) : undefined;
    const sent = lost ? { ...job, deliveries: job.deliveries.slice(0, -1) } : job;
    const playing = playJob(sent, {
      url: `${selfUrl(req)}/webhooks/${provider}`,
      ...(signer
        ? { sign: signer }
        : isMoreProvider(provider)
          ? moreProviderAuth(provider)
          : provider === "replicate"
            ? { signingSecret: options.replicateSigningSecret }
            : provider === "openai"
              ? { signingSecret: options.openaiSigningSecret ?? "" }
              : { secret: options.secrets[provider as keyof SimulatorOptions["secrets"]] }),
      timeScale: options.timeScale,
      signal: abort.signal,
      // Replicate's API holds every state its webhooks announce, so the receiver can read any prediction back.
      // (Recorded in the order sent: one connection, or one Map, keeps it.)
      ...(api && {
        onDelivery: (delivery) =>
          void api.record(delivery.body as { id: string }).catch((err: unknown) => {
            options.logger.warn({ err, job: job.id }, "the fake Replicate API could not record a prediction");
          }),
      }),
    })
      .then(async (played) => {
        const refused = played.find(({ response }) => response.status >= 300);
        if (refused) options.logger.warn({ job: job.id, status: refused.response.status }, `the simulated ${provider} job was refused`);
        else if (lost && api) {
          // The prediction ends on time; its webhook goes nowhere, and only the API says it succeeded.
          await sleep(lost.delayMs * options.timeScale, undefined, { signal: abort.signal });
          await api.record(lost.body as { id: string });
          options.logger.info({ job: job.id }, `the simulated ${provider} job ended; its final webhook was lost on purpose`);
        }
      })
      .catch((err: unknown) => {
        if (!abort.signal.aborted) options.logger.error({ err, job: job.id }, `the simulated ${provider} job stopped`);
      })
      .finally(() => running.delete(playing));
    running.add(playing);
    res.status(202).json({ provider, id: job.id, outcome: job.outcome, deliveries: sent.deliveries.length });
  });

  /** The providers this simulator plays: OpenAI with its fake API, the signing ones with their keys. */
  function playable(provider: string): provider is SimulatedProvider {
    if (provider === "openai") return options.openaiApi !== undefined;
    if (isSignedProvider(provider)) return options.signers?.[provider] !== undefined;
    return provider === "crazyhorse" || provider === "all-images" || provider === "replicate" || isMoreProvider(provider);
  }

  return {
    router,
    async close() {
      abort.abort();
      await Promise.allSettled([...running]);
    },
  };
}

/**
 * This server's own address, from the socket the request came in on: never from the Host header,
 * which a client chooses and could point the secrets at another server.
 */
export function selfUrl(req: Request): string {
  const address = (req.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:(?=\d)/, "");
  return `http://${address.includes(":") ? `[${address}]` : address}:${req.socket.localPort}`;
}
