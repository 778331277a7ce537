// lib/options/keep-images.ts: `keepImages`, which the platform checks and builds (lib/images/options.ts
// on Node) and the web entry refuses.
import type { ImageKeeper } from "../images/keeper";
import type { Platform } from "../platform/platform";
import { ConfigError } from "./checks";

export function resolveKeepImages(options: unknown, platform: Platform): ImageKeeper | undefined {
  if (options === undefined) return undefined;
  if (!platform.imageKeeper) {
    throw new ConfigError(
      'keepImages needs node:http, which imagegen-webhooks/web does without: import createWebhooks from "imagegen-webhooks" on Node',
    );
  }
  try {
    return platform.imageKeeper(options);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}
