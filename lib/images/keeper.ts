import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { AnyWebhookEvent, GeneratedImage, ImageFailed } from "../events/event-map";
import { createAgents, openImage, asKeepError, type DownloadConfig } from "./download";
import { ImageKeepError } from "../errors/image-keep-error";
import type { ImageStore, StoredImage } from "./image-store";
import { mediaType, sniffImage, SNIFF_BYTES } from "./sniff";

/** The options of `keepImages`. */
export interface KeepImagesOptions {
  /** Where images go: `directoryImageStore(dir)`, `s3ImageStore()` from `imagegen-webhooks/s3`, or your own. */
  store: ImageStore;
  /** The largest image kept, in bytes; a larger one fails as `too-large`, whatever its Content-Length says. Default 20 MB. */
  maxBytes?: number;
  /** How long one image may take, from the request to the last byte stored. Default 30000. */
  timeoutMs?: number;
  /**
   * Hosts (`host`, or `host:port`) that may be reached over `http:` and at any address, private
   * ones included: a provider's storage on your network, a test server. Others: `https:` to public addresses only.
   */
  allowedHosts?: readonly string[];
  /**
   * How many images download at once, across all deliveries. Deliveries take turns, and one
   * delivery uses at most all but one of them, so another delivery's images never wait behind it alone. Default 4.
   */
  concurrency?: number;
  /** The most images kept of one delivery; those past it are not fetched and fail as `too-many`. Default 16. */
  maxImages?: number;
}

/** One delivery's downloads: how many run, which wait for a slot, and when it last got one. */
interface Turn {
  running: number;
  waiting: (() => void)[];
  servedAt: number;
}

/** How one generation's images are kept. */
export interface KeepOptions {
  /** Reject on a failure a later attempt may not meet, rather than report it as `image.failed`. Default false. */
  retryTransient?: boolean;
}

/** Downloads a generation's images into the store, each at most once. */
export class ImageKeeper {
  readonly #store: ImageStore;
  readonly #download: DownloadConfig;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  /** What one delivery may run at once: all but one slot, so that another delivery can always start. */
  readonly #perDelivery: number;
  readonly #maxImages: number;
  #running = 0;
  /** The deliveries with downloads running or waiting; a freed slot goes to the one that runs fewest, then waited longest. */
  readonly #turns = new Map<object, Turn>();
  #served = 0;
  /** Images being kept now, by key: a second delivery naming one waits for the first download. */
  readonly #inFlight = new Map<string, Promise<StoredImage>>();

  constructor(options: {
    store: ImageStore;
    download: Omit<DownloadConfig, "agents">;
    timeoutMs: number;
    concurrency: number;
    maxImages: number;
  }) {
    this.#store = options.store;
    this.#download = { ...options.download, agents: createAgents() };
    this.#timeoutMs = options.timeoutMs;
    this.#concurrency = options.concurrency;
    this.#perDelivery = Math.max(1, options.concurrency - 1);
    this.#maxImages = options.maxImages;
  }

  /**
   * Keeps each image of the event's generation, setting its `keptUrl` and `kept`; resolves with
   * the images that could not be kept. With `retryTransient`, rejects on the first failure that a
   * later attempt may not meet (timeout, 5xx, network, store), for the inbox to retry the delivery.
   * A bare boolean is read as `retryTransient`.
   */
  async keep(event: AnyWebhookEvent, options: KeepOptions | boolean = {}): Promise<ImageFailed[]> {
    const retryTransient = typeof options === "boolean" ? options : options.retryTransient === true;
    const images = event.generation.images;
    // Anyone whose delivery is accepted chooses how many URLs it lists: those past the cap are not fetched.
    const tooMany = new ImageKeepError("too-many", `past keepImages.maxImages (${this.#maxImages}): not fetched`);
    const delivery = {};
    const outcomes = await Promise.all(
      images.map((image, index) =>
        (index < this.#maxImages ? this.#keepOne(event, image, delivery) : Promise.reject(tooMany)).then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    );
    const failures: ImageFailed[] = [];
    for (let index = 0; index < outcomes.length; index++) {
      const outcome = outcomes[index];
      if (outcome === undefined) continue;
      const error =
        outcome instanceof ImageKeepError ? outcome : new ImageKeepError("store", String((outcome as Error).message ?? outcome));
      if (retryTransient && error.transient) throw error;
      failures.push({ event, index, url: images[index]!.url, reason: error.reason, message: error.message });
    }
    return failures;
  }

  /** Ends the kept-alive sockets. */
  close(): void {
    for (const kind of [this.#download.agents.guarded, this.#download.agents.trusted]) {
      kind.http.destroy();
      kind.https.destroy();
    }
  }

  async #keepOne(event: AnyWebhookEvent, image: GeneratedImage, delivery: object): Promise<void> {
    const key = imageKey(event, image.url);
    let stored: StoredImage | undefined;
    try {
      stored = await this.#store.stat(key);
    } catch (err) {
      throw new ImageKeepError("store", `the image store failed: ${(err as Error).message}`, { cause: err });
    }
    if (!stored) {
      let keeping = this.#inFlight.get(key);
      if (!keeping) {
        const { bytes } = image;
        // An image that came as bytes (OpenAI's) is stored as a download is, without the download.
        keeping = bytes
          ? this.#storeBytes(bytes, image.contentType, key)
          : this.#limited(delivery, () => this.#fetchAndStore(image.url, key));
        this.#inFlight.set(key, keeping);
        const forget = () => void this.#inFlight.delete(key);
        keeping.then(forget, forget);
      }
      stored = await keeping;
    }
    image.keptUrl = stored.url;
    image.kept = { key: stored.key, size: stored.size, contentType: stored.contentType };
  }

  async #fetchAndStore(url: string, key: string): Promise<StoredImage> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.#timeoutMs);
    try {
      const opened = await openImage(url, this.#download, controller.signal);
      try {
        const put = await this.#store.put(key, opened.body, { contentType: opened.contentType });
        return { ...put, size: opened.bytes(), contentType: opened.contentType };
      } catch (err) {
        // The body's own failure (too large, the timeout) explains the store's; else the store failed.
        if (opened.body.errored || controller.signal.aborted) throw asKeepError(opened.body.errored ?? err, controller.signal);
        throw new ImageKeepError("store", `the image store failed: ${(err as Error).message}`, { cause: err });
      } finally {
        opened.body.destroy();
      }
    } catch (err) {
      throw asKeepError(err, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** An image's own bytes, checked as a download is: the size cap, then the magic bytes against the type the provider gave. */
  async #storeBytes(bytes: Uint8Array, contentType: string | undefined, key: string): Promise<StoredImage> {
    const { maxBytes } = this.#download;
    if (bytes.byteLength > maxBytes) throw new ImageKeepError("too-large", `${bytes.byteLength} bytes, over maxBytes (${maxBytes})`);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const declared = contentType === undefined ? undefined : mediaType(contentType);
    const actual = sniffImage(buffer.subarray(0, SNIFF_BYTES));
    if (actual === undefined || (declared !== undefined && actual !== declared)) {
      throw new ImageKeepError(
        "not-an-image",
        `given as ${declared ?? "bytes"}, but its bytes are ${actual ?? "not a PNG, JPEG, WebP, GIF or AVIF image"}`,
      );
    }
    try {
      const put = await this.#store.put(key, Readable.from([buffer]), { contentType: actual });
      return { ...put, size: buffer.byteLength, contentType: actual };
    } catch (err) {
      throw new ImageKeepError("store", `the image store failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Runs `task` in a slot of `concurrency`, when `delivery`'s turn comes. */
  async #limited<T>(delivery: object, task: () => Promise<T>): Promise<T> {
    const turn: Turn = this.#turns.get(delivery) ?? { running: 0, waiting: [], servedAt: 0 };
    this.#turns.set(delivery, turn);
    await new Promise<void>((resolve) => {
      turn.waiting.push(resolve);
      this.#dispatch();
    });
    try {
      return await task();
    } finally {
      turn.running--;
      this.#running--;
      if (turn.running === 0 && turn.waiting.length === 0) this.#turns.delete(delivery);
      this.#dispatch();
    }
  }

  /** Hands the free slots out: to the waiting delivery that runs fewest, then the one served longest ago. */
  #dispatch(): void {
    while (this.#running < this.#concurrency) {
      let next: Turn | undefined;
      for (const turn of this.#turns.values()) {
        if (turn.waiting.length === 0 || turn.running >= this.#perDelivery) continue;
        if (!next || turn.running < next.running || (turn.running === next.running && turn.servedAt < next.servedAt)) next = turn;
      }
      if (!next) return;
      next.running++;
      this.#running++;
      next.servedAt = ++this.#served;
      next.waiting.shift()!();
    }
  }
}

/**
 * Where an image is stored: by provider and generation, for a reader of the bucket, then a hash of
 * its URL, so the same image gets the same key in any process, which is what makes it kept once. An
 * image that came as bytes has their `data:` URL: the hash of its content.
 */
export function imageKey(event: AnyWebhookEvent, url: string): string {
  const generation = event.generation.id.replace(/[^\w-]/g, "_").slice(0, 100) || "_";
  const hash = createHash("sha256").update(url).digest("hex").slice(0, 32);
  return `${event.provider}/${generation}/${hash}`;
}
