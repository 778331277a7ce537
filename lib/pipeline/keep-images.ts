import type { ImageFailed } from "../events";
import { ATTR, count } from "../telemetry/index";
import type { Delivery } from "./delivery";
import { callListeners, emitEvent } from "./listeners";
import { ImagesNotKept } from "../errors/images-not-kept";

export { ImagesNotKept };

/** How step 8 goes for one delivery. */
export interface EmitOptions {
  /** The delivery moved its generation forward: its images are kept, and `generation.<status>` fires (else `generation.stale`). */
  movedForward: boolean;
  /** An image failure a later attempt may not meet rejects (an `ImagesNotKept`), rather than fire `image.failed`. */
  retryTransient: boolean;
}

/**
 * Step 8: the generation's images kept, where `keepImages` is on and it moved forward with some,
 * then the delivery's events. `undefined` when there was nothing to keep and every listener
 * returned synchronously, so a receiver without `keepImages` stays synchronous; a listener's
 * failure throws (or rejects) a `ListenerFailure`.
 */
export function keepAndEmit(delivery: Delivery, { movedForward, retryTransient }: EmitOptions): Promise<void> | undefined {
  const { receiver, event } = delivery;
  const keeper = receiver.options.keepImages;
  if (!keeper || !movedForward || event.generation.images.length === 0) {
    return emitEvent(receiver.emitter, event, movedForward, receiver.telemetry?.callListener);
  }
  return keeper.keep(event, { retryTransient }).then(
    (failures) => emitWithFailures(delivery, failures),
    (err: unknown) => {
      throw new ImagesNotKept(err);
    },
  );
}

/** `image.failed` for each image not kept, then the events of a delivery that moved its generation forward. */
async function emitWithFailures({ receiver, event }: Delivery, failures: readonly ImageFailed[]): Promise<void> {
  const { emitter, telemetry } = receiver;
  if (telemetry) {
    const attributes = { [ATTR.provider]: event.provider };
    count(telemetry, "images.kept", event.generation.images.filter((image) => image.keptUrl !== undefined).length, attributes);
    if (failures.length > 0) count(telemetry, "images.failed", failures.length, attributes);
  }
  for (const failure of failures) await callListeners(emitter, ["image.failed"], failure);
  await emitEvent(emitter, event, true, telemetry?.callListener);
}
