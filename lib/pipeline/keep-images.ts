import type { ImageFailed } from "../events/event-map";
import { ATTR, count } from "../telemetry/index";
import type { Delivery } from "./delivery";
import { callListeners, emitEvent } from "./listeners";
import { isAboutGeneration } from "./track";
import { ImagesNotKept } from "../errors/images-not-kept";

export { ImagesNotKept };

/** A tracked generation's news could not be recorded (its store failed): not the listeners' fault. */
export class TrackedNotRecorded extends Error {
  constructor(override readonly cause: unknown) {
    super("the tracked generation could not be recorded");
    this.name = "TrackedNotRecorded";
  }
}

/** How step 8 goes for one delivery. */
export interface EmitOptions {
  /** The delivery moved its generation forward: its images are kept, and `generation.<status>` fires (else `generation.stale`). */
  movedForward: boolean;
  /** An image failure a later attempt may not meet rejects (an `ImagesNotKept`), rather than fire `image.failed`. */
  retryTransient: boolean;
  /** A tracked generation that moved forward: records it (images kept) before its listeners run. */
  recordTracked?: () => void | Promise<void>;
}

/**
 * Step 8: the generation's images kept, where `keepImages` is on and it moved forward with some,
 * then the delivery's events. `undefined` when there was nothing to keep and every listener
 * returned synchronously, so a receiver without `keepImages` stays synchronous; a listener's
 * failure throws (or rejects) a `ListenerFailure`.
 */
export function keepAndEmit(delivery: Delivery, { movedForward, retryTransient, recordTracked }: EmitOptions): Promise<void> | undefined {
  const { receiver, event } = delivery;
  const keeper = receiver.options.keepImages;
  if (!isAboutGeneration(receiver, event)) {
    return callListeners(receiver.emitter, [event.name, event.provider, "*"], event, receiver.telemetry?.callListener);
  }
  if (!keeper || !movedForward || event.generation.images.length === 0) {
    const recording = recordTracked && record(recordTracked);
    if (recording) return recording.then(() => emitEvent(receiver.emitter, event, movedForward, receiver.telemetry?.callListener));
    return emitEvent(receiver.emitter, event, movedForward, receiver.telemetry?.callListener);
  }
  return keeper.keep(event, { retryTransient }).then(
    async (failures) => {
      if (recordTracked) await record(recordTracked);
      await emitWithFailures(delivery, failures);
    },
    (err: unknown) => {
      throw new ImagesNotKept(err);
    },
  );
}

/** The tracked generation recorded; its store's failure thrown (or rejected) as a `TrackedNotRecorded`. */
function record(recordTracked: () => void | Promise<void>): Promise<void> | undefined {
  try {
    return recordTracked()?.catch((err: unknown) => {
      throw new TrackedNotRecorded(err);
    });
  } catch (err) {
    throw new TrackedNotRecorded(err);
  }
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
