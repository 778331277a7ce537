import { WebhookError } from "../errors";

/** The addresses a provider sends from, built at start-up by the platform (node:net's BlockList on Node). */
export interface AllowList {
  /** Whether `ip` is inside; an unknown address is not. */
  allows(ip: string | undefined): boolean;
}

/** Refuses a request from outside the list with `403`. */
export function checkSourceIp(allowList: AllowList | undefined, ip: string | undefined): void {
  if (allowList && !allowList.allows(ip)) throw new WebhookError("ip.forbidden");
}
