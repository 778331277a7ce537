import { nodeCrypto } from "../crypto/node-crypto";
import { createNodeMiddleware } from "../http/node-middleware";
import { buildAllowList } from "./node-allow-list";
import { nodeDecoder } from "./node-decoder";
import { resolveKeepImages } from "../images/options";
import type { Platform } from "./platform";

/** Node (and Bun and Deno through their Node compatibility): node:crypto, node:net, node:zlib, the middleware. */
export const nodePlatform: Platform = {
  crypto: nodeCrypto,
  allowList: buildAllowList,
  nodeMiddleware: createNodeMiddleware,
  decoder: nodeDecoder,
  imageKeeper: resolveKeepImages,
};
