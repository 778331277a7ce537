/** Why an image was not kept: the `reason` of an `image.failed` event. */
export type ImageFailureReason =
  | "too-large"
  | "not-an-image"
  | "refused-address"
  | "timeout"
  | "http-status"
  | "network"
  | "store"
  /** Past `keepImages.maxImages`: not fetched. */
  | "too-many";

/** The reasons worth another attempt: the same request may succeed later. */
const TRANSIENT: ReadonlySet<ImageFailureReason> = new Set(["timeout", "network", "store"]);

/** Why one image could not be kept, with a word to switch on. */
export class ImageKeepError extends Error {
  /** Whether a later attempt may succeed (a timeout, a 5xx, a dropped connection, the store down). */
  readonly transient: boolean;

  constructor(
    readonly reason: ImageFailureReason,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ImageKeepError";
    const status = options.status;
    this.transient =
      TRANSIENT.has(reason) || (reason === "http-status" && status !== undefined && (status >= 500 || status === 408 || status === 429));
  }
}
