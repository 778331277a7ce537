import { createBrotliDecompress } from "node:zlib";
import type { Decoder } from "../http/fetch-handler";

/**
 * `br` bodies for `fetch()` on Node, inflated by node:zlib as body-parser does for the middleware.
 * The inflater is paused while its output waits to be read, and destroyed when the reader stops
 * (a body past `limit`): no byte more is inflated. Written out rather than `Duplex.toWeb()`, whose
 * readable in Deno's Node compatibility throws an uncaught error when zlib pushes after a cancel.
 */
export const nodeDecoder: Decoder = (encoding) => {
  if (encoding !== "br") return undefined;
  const inflate = createBrotliDecompress();
  let open = true;
  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        inflate.on("data", (chunk: Buffer) => {
          if (!open) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) inflate.pause();
        });
        inflate.once("end", () => {
          if (open) controller.close();
          open = false;
        });
        inflate.once("error", (err) => {
          if (open) controller.error(err);
          open = false;
        });
      },
      pull() {
        inflate.resume();
      },
      cancel() {
        open = false;
        inflate.destroy();
      },
    },
    { highWaterMark: 1 },
  );
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => void inflate.write(chunk, (err) => (err ? reject(err) : resolve()))),
    close: () => void inflate.end(),
    abort: (reason) => void inflate.destroy(reason instanceof Error ? reason : undefined),
  });
  return { readable, writable };
};
