import { webCrypto } from "../crypto/web-crypto";
import type { Platform } from "./platform";

/** Web APIs only: Web Crypto, and `fetch()` as the one adapter. */
export const webPlatform: Platform = { crypto: webCrypto };
