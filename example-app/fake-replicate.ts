import { Router } from "express";
import type { ReconcileOptions } from "imagegen-webhooks";

/** Where the demo serves its stand-in for Replicate's API: `GET /fake-replicate/v1/predictions/{id}`. */
export const FAKE_REPLICATE_PATH = "/fake-replicate";

/** The API token the demo's receiver reads its fake Replicate API with: public, like the demo's secrets. */
export const DEMO_REPLICATE_API_TOKEN = "r8_imagegen-webhooks-demo-token";

export interface DemoReconcileOptions {
  /**
   * This server's own origin, as this process reaches it (e.g. `http://127.0.0.1:3000`): the
   * receiver reads predictions back from the fake API there.
   */
  origin: string;
  /** How long a prediction stays quiet before it is read back. Default 3000: long enough to see it stall. */
  afterMs?: number;
  /** How often the receiver looks for such predictions. Default 1000. */
  everyMs?: number;
}

/** A prediction as the simulator sent it: only its id matters here, the rest is answered as it is. */
interface Prediction {
  id: string;
}

/**
 * Replicate's `GET /v1/predictions/{id}`, answered from what the simulator played: the prediction
 * as it stands, including a final state whose webhook was never sent (the "final webhook lost"
 * outcome), so that the receiver's reconciliation has something to recover.
 */
export class FakeReplicateApi {
  readonly #predictions = new Map<string, Prediction>();

  constructor(private readonly maxPredictions = 2000) {}

  /** The prediction's current state: Replicate's API would answer it from now on. */
  record(prediction: Prediction): void {
    this.#predictions.delete(prediction.id);
    this.#predictions.set(prediction.id, prediction);
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.#predictions.size > this.maxPredictions) this.#predictions.delete(this.#predictions.keys().next().value as string);
  }

  readonly router = Router().get(`${FAKE_REPLICATE_PATH}/v1/predictions/:id`, (req, res) => {
    // Replicate's own answer to a missing or wrong token: 401 with a problem body.
    if (req.get("authorization") !== `Bearer ${DEMO_REPLICATE_API_TOKEN}`) {
      res.status(401).json({ title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 });
      return;
    }
    const prediction = this.#predictions.get(req.params.id);
    if (!prediction) {
      res.status(404).json({ title: "Not found", detail: "The requested resource could not be found.", status: 404 });
      return;
    }
    res.json(prediction);
  });
}

/** The receiver's options that read predictions back from the fake API. */
export function reconcileOptions(options: DemoReconcileOptions): {
  reconcile: ReconcileOptions;
  replicate: { apiToken: string; apiBaseUrl: string };
} {
  return {
    reconcile: { afterMs: options.afterMs ?? 3000, everyMs: options.everyMs ?? 1000 },
    replicate: { apiToken: DEMO_REPLICATE_API_TOKEN, apiBaseUrl: `${options.origin.replace(/\/+$/, "")}${FAKE_REPLICATE_PATH}` },
  };
}
