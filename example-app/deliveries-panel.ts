import { Router } from "express";
import type { Webhooks } from "imagegen-webhooks";
import type { Logger } from "pino";
import type { LiveFeed } from "./live-feed";

/** Deliveries the panel shows. */
const SHOWN = 20;
/** How often the inbox is read while a page is open: its history has no change stream of its own. */
const POLL_MS = 500;

/**
 * The page's Deliveries panel: `GET /deliveries` (the inbox's history; `inbox: false` without one),
 * `POST /deliveries/:key/replay`, and a `deliveries` snapshot over the live feed whenever the
 * history changes, while a page is open to see it.
 */
export function deliveriesPanel(options: { webhooks: Webhooks; feed: LiveFeed; inbox: boolean; logger: Logger }): {
  router: Router;
  close: () => Promise<void>;
} {
  const { webhooks, feed, inbox, logger } = options;
  const router = Router();
  const list = () => webhooks.deliveries.list({ limit: SHOWN });

  router.get("/deliveries", (_req, res, next) => {
    if (!inbox) {
      res.json({ inbox: false, deliveries: [] });
      return;
    }
    list()
      .then((deliveries) => res.json({ inbox: true, deliveries }))
      .catch(next);
  });

  router.post("/deliveries/:key/replay", (req, res, next) => {
    if (!inbox) {
      res.status(409).json({ error: "replay needs the durable inbox: start the demo with REDIS_URL" });
      return;
    }
    const { key } = req.params;
    webhooks.deliveries.replay(key).then(
      (found) => {
        if (!found) res.status(404).json({ error: `no delivery ${key}` });
        else {
          res.json({ key, replayed: true });
          poll();
        }
      },
      (err: unknown) => {
        // Still queued, active or retrying: the inbox says so.
        if (err instanceof Error && /only a completed or dead delivery/.test(err.message)) res.status(409).json({ error: err.message });
        else next(err);
      },
    );
  });

  let last = "";
  let reading: Promise<void> | undefined;
  let closed = false;
  function poll(): void {
    if (!inbox || closed || reading || feed.clients === 0) return;
    reading = list()
      .then((deliveries) => {
        const snapshot = JSON.stringify(deliveries);
        if (snapshot === last) return;
        last = snapshot;
        feed.broadcast("deliveries", { deliveries });
      })
      .catch((err: unknown) => logger.warn({ err }, "the deliveries panel could not read the inbox"))
      .finally(() => (reading = undefined));
  }
  const timer = inbox ? setInterval(poll, POLL_MS).unref() : undefined;

  return {
    router,
    async close() {
      closed = true;
      clearInterval(timer);
      await reading;
    },
  };
}
