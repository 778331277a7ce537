import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Router } from "express";
import type { BullmqInbox } from "imagegen-webhooks/bullmq";

/** Where the demo mounts bull-board. */
export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * bull-board over the inbox's own queue, read-only: a delivery is replayed from the page's
 * Deliveries panel (`webhooks.deliveries.replay()`), so that its listeners see `replayed` and the
 * inbox keeps its record; bull-board's retry would go behind the inbox's back.
 */
export function queueBoard(inbox: BullmqInbox): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(inbox.queue, { readOnlyMode: true, description: "deliveries stored by the webhooks middleware" })],
    serverAdapter,
    options: { uiConfig: { boardTitle: "imagegen-webhooks demo" } },
  });
  return serverAdapter.getRouter() as Router;
}
