// A crazyhorse.ai "done" delivery as the edge stores it in the inbox: for the tests that drive an
// inbox directly (enqueue, a worker), with no HTTP in front of it.
import { randomUUID } from "node:crypto";
import type { StoredDelivery } from "imagegen-webhooks";

/** `payload` adds fields to the delivery's body (images, …). */
export function storedDelivery(code: string = randomUUID(), payload: Record<string, unknown> = {}): StoredDelivery {
  return {
    key: `crazyhorse:${code}:done`,
    provider: "crazyhorse",
    id: `${code}:done`,
    name: "generation",
    receivedAt: new Date().toISOString(),
    payload: { code, state: "DONE", ...payload },
  };
}
