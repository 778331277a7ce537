// lib/platform/: what differs between Node and runtimes with only web APIs, passed to the one
// `Webhooks` class by the entry point (lib/entries/index.ts on Node, lib/entries/web/index.ts elsewhere), so that the
// pipeline is the same code everywhere and the web entry's module graph holds no `node:` import.
import type { Crypto } from "../crypto/crypto";
import type { ImageKeeper } from "../images/keeper";
import type { Decoder } from "../http/fetch-handler";
import type { NodeMiddleware } from "../http/node-middleware";
import type { AllowList } from "../pipeline/source-ip";
import type { Receiver } from "../pipeline/receiver";

/** The runtime's pieces: its crypto, and what only Node has. */
export interface Platform {
  readonly crypto: Crypto;
  /** Builds a provider's `allowedIps` matcher: node:net's BlockList on Node, ipaddr.js on the web entry. */
  readonly allowList: (ranges: readonly string[], where: string) => AllowList;
  /** The `(req, res, next)` adapter; absent on the web entry, which serves `fetch()` only. */
  readonly nodeMiddleware?: (receiver: Receiver) => NodeMiddleware;
  /**
   * Undoes a `Content-Encoding` that `DecompressionStream` does not know (`br`, which body-parser
   * inflates for the middleware), for `fetch()`; absent on the web entry, whose runtimes have no brotli.
   */
  readonly decoder?: Decoder;
  /** Checks `keepImages`; absent on the web entry, which has no node:http to download with. */
  readonly imageKeeper?: (options: unknown) => ImageKeeper;
}
