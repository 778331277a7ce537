import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from "node:dns";
import { isIP } from "node:net";
import { isRefusedAddress } from "./address";
import { ImageKeepError } from "../errors/image-keep-error";

/** `allowedHosts`, checked once: bare hosts (any port) and `host:port` entries, lower-cased. */
export interface AllowedHosts {
  readonly hosts: ReadonlySet<string>;
  readonly hostPorts: ReadonlySet<string>;
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443" };

/** `allowedHosts` entries as the URL parser spells them (`[::1]`, lower-case names), so a URL's host compares equal. */
export function parseAllowedHosts(entries: readonly string[]): AllowedHosts {
  const hosts = new Set<string>();
  const hostPorts = new Set<string>();
  for (const entry of entries) {
    const url = new URL(`http://${entry}`);
    if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) throw new TypeError(entry);
    // The URL parser drops the port 80 of http:, which an entry names on purpose.
    const port = url.port || (/:80$/.test(entry) ? "80" : "");
    if (port) hostPorts.add(`${url.hostname}:${port}`);
    else hosts.add(url.hostname);
  }
  return { hosts, hostPorts };
}

/**
 * Whether `url` may be fetched, and how: `"trusted"` for an allowed host (any scheme of the two,
 * any address), `"guarded"` for a public `https:` URL whose resolved address is still to be checked.
 * Throws `refused-address` otherwise, before anything is sent.
 */
export function checkDestination(url: URL, allowed: AllowedHosts): "trusted" | "guarded" {
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ImageKeepError("refused-address", `${url.protocol} URLs are never fetched`);
  }
  const port = url.port || DEFAULT_PORTS[url.protocol]!;
  if (allowed.hosts.has(url.hostname) || allowed.hostPorts.has(`${url.hostname}:${port}`)) return "trusted";
  if (url.protocol !== "https:") {
    throw new ImageKeepError("refused-address", `${url.host} is not in allowedHosts: only https: URLs are fetched from it`);
  }
  const literal = url.hostname.replace(/^\[|\]$/g, "");
  // An IP literal is connected to without a lookup, so it is judged here.
  if (isIP(literal) !== 0 && isRefusedAddress(literal)) {
    throw new ImageKeepError("refused-address", `${url.hostname} is not a public address`);
  }
  return "guarded";
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * The `lookup` of the sockets that fetch images from hosts not in `allowedHosts`: it resolves the
 * name and refuses it when any of its addresses is not public, so the address checked is the one
 * connected to, and a name that resolves differently on its second lookup (DNS rebinding) gains nothing.
 */
export function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const refused = addresses.find((entry) => isRefusedAddress(entry.address));
    if (refused || addresses.length === 0) {
      const error: NodeJS.ErrnoException = new ImageKeepError(
        "refused-address",
        `${hostname} resolves to ${refused ? refused.address : "nothing"}, which is not a public address`,
      );
      return callback(error, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
}
