import type { EventEmitter } from "node:events";
import type { AnyWebhookEvent, ImageFailed } from "../events";
import type { ImageKeeper } from "../images/keeper";
import { ATTR, count, type Telemetry } from "../telemetry/index";
import { callListeners, emitEvent } from "./listeners";

/**
 * The images of a generation that moved forward, to keep before its events fire; `undefined` when
 * there is nothing to keep, so a receiver without `keepImages` stays synchronous.
 */
export function imagesToKeep(keeper: ImageKeeper | undefined, event: AnyWebhookEvent, movedForward: boolean): ImageKeeper | undefined {
  return keeper && movedForward && event.generation.images.length > 0 ? keeper : undefined;
}

/** Step 8 with `keepImages`, without an inbox: the images kept (or reported as failed), then the events. */
export function keepAndEmit(
  keeper: ImageKeeper | undefined,
  emitter: EventEmitter,
  event: AnyWebhookEvent,
  movedForward: boolean,
  telemetry?: Telemetry,
): Promise<void> | undefined {
  const keeping = imagesToKeep(keeper, event, movedForward);
  if (!keeping) return emitEvent(emitter, event, movedForward, telemetry?.callListener);
  return keeping.keep(event, false).then((failures) => emitWithFailures(emitter, event, movedForward, failures, telemetry));
}

/** `image.failed` for each image not kept, then the delivery's events as `emitEvent` fires them. */
export async function emitWithFailures(
  emitter: EventEmitter,
  event: AnyWebhookEvent,
  movedForward: boolean,
  failures: readonly ImageFailed[],
  telemetry?: Telemetry,
): Promise<void> {
  if (telemetry) {
    const attributes = { [ATTR.provider]: event.provider };
    count(telemetry, "images.kept", event.generation.images.filter((image) => image.keptUrl !== undefined).length, attributes);
    if (failures.length > 0) count(telemetry, "images.failed", failures.length, attributes);
  }
  for (const failure of failures) await callListeners(emitter, ["image.failed"], failure);
  await emitEvent(emitter, event, movedForward, telemetry?.callListener);
}
