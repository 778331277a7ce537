import ipaddr from "ipaddr.js";
import { isIP } from "node:net";

/**
 * Addresses an image URL may never reach: every range ipaddr.js names other than plain unicast
 * (loopback, private, link-local where cloud metadata lives, shared, documentation, multicast,
 * reserved, and the IPv6 prefixes that embed an IPv4 address: NAT64, 6to4, Teredo, IPv4-translated),
 * so a range it learns of is refused too; and what it does not name, below.
 */
const ALSO_REFUSED: readonly [ipaddr.IPv6, number][] = [
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291): some stacks still route it to the IPv4 address.
  ipaddr.IPv6.parseCIDR("::/96"),
];

/**
 * IPv6 text (already valid to Node) as ipaddr.js should read it: without its zone, and a dotted
 * tail as two hex groups, since ipaddr.js reads `::1.2.3.4` as IPv4-mapped (`::ffff:1.2.3.4`).
 */
function plainIPv6(text: string): ipaddr.IPv6 {
  const address = text.split("%")[0]!;
  const colon = address.lastIndexOf(":");
  const tail = address.slice(colon + 1);
  if (!tail.includes(".")) return ipaddr.IPv6.parse(address);
  const [a = 0, b = 0, c = 0, d = 0] = tail.split(".").map(Number);
  return ipaddr.IPv6.parse(`${address.slice(0, colon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`);
}

/** Whether an image download may never connect to this IP address; anything that is not an IP is refused too. */
export function isRefusedAddress(address: string): boolean {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  // Node's parser decides what is an address, as it is Node that connects to it.
  const version = isIP(bare);
  if (version === 0) return true;
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = version === 4 ? ipaddr.IPv4.parse(bare) : plainIPv6(bare);
  } catch {
    return true;
  }
  // An IPv4-mapped address (::ffff:127.0.0.1, ::ffff:7f00:1) reaches the IPv4 address inside: judged as that one.
  if (parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
  if (parsed.range() !== "unicast") return true;
  const ipv6 = parsed;
  return ipv6 instanceof ipaddr.IPv6 && ALSO_REFUSED.some((cidr) => ipv6.match(cidr));
}
