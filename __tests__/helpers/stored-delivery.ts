// A crazyhorse.ai "done" delivery as the edge stores it in the inbox: for the tests that drive an
// inbox directly (enqueue, a worker), with no HTTP in front of it.
import { randomUUID } from "node:crypto";
import type { StoredDelivery } from "imagegen-webhooks";

export function storedDelivery(code: string = randomUUID()): StoredDelivery {
  return {
    key: `crazyhorse:${code}:done`,
    provider: "crazyhorse",
    id: `${code}:done`,
    name: "generation",
    receivedAt: new Date().toISOString(),
    payload: { code, state: "DONE" },
  };
}
