import { webCrypto } from "../crypto/web-crypto";
import { buildAllowList } from "./web-allow-list";
import type { Platform } from "./platform";

/** Web APIs only: Web Crypto, ipaddr.js for `allowedIps`, and `fetch()` as the one adapter. */
export const webPlatform: Platform = { crypto: webCrypto, allowList: buildAllowList };
