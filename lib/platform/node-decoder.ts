import { Duplex } from "node:stream";
import { createBrotliDecompress } from "node:zlib";
import type { Decoder } from "../http/fetch-handler";

/** `br` bodies for `fetch()` on Node, inflated by node:zlib as body-parser does for the middleware. */
export const nodeDecoder: Decoder = (encoding) => {
  if (encoding !== "br") return undefined;
  return Duplex.toWeb(createBrotliDecompress());
};
