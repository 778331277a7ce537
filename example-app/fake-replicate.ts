import { Router } from "express";
import type { ReconcileOptions } from "imagegen-webhooks";
import { memoryRecords, type ApiRecords } from "./api-records";

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
export interface Prediction {
  id: string;
}

/**
 * Replicate's `GET /v1/predictions/{id}`, answered from what the simulator played: the prediction
 * as it stands, including a final state whose webhook was never sent (the "final webhook lost"
 * outcome), so that the receiver's reconciliation has something to recover.
 */
export class FakeReplicateApi {
  constructor(private readonly predictions: ApiRecords<Prediction> = memoryRecords(2000)) {}

  /** The prediction's current state: Replicate's API would answer it from now on. */
  async record(prediction: Prediction): Promise<void> {
    await this.predictions.set(prediction.id, prediction);
  }

  readonly router = Router().get(`${FAKE_REPLICATE_PATH}/v1/predictions/:id`, (req, res, next) => {
    // Replicate's own answer to a missing or wrong token: 401 with a problem body.
    if (req.get("authorization") !== `Bearer ${DEMO_REPLICATE_API_TOKEN}`) {
      res.status(401).json({ title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 });
      return;
    }
    // (Express 4 does not catch a rejected handler: hence the explicit next.)
    this.predictions.get(req.params.id).then((prediction) => {
      if (!prediction) res.status(404).json({ title: "Not found", detail: "The requested resource could not be found.", status: 404 });
      else res.json(prediction);
    }, next);
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
