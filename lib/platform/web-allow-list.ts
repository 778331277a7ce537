import ipaddr from "ipaddr.js";
import type { AllowList } from "../pipeline/source-ip";
import { ConfigError } from "../options/checks";

// The main entry's allowlist (node-allow-list.ts) takes what node:net's isIP() takes; ipaddr.js
// reads more (hex and octal IPv4 parts, `::1.2.3.4` as IPv4-mapped, fewer zone characters), so
// the text forms are narrowed to Node's before ipaddr.js parses them, and an entry or a sender's
// address means the same on both entries.

/** The characters isIP() accepts in an IPv6 zone (`fe80::1%eth0`), which matching ignores, as BlockList does. */
const ZONE = /^[0-9a-zA-Z.:-]+$/;

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Whether `address` (no zone) is IPv6 text as isIP() reads it: groups of one to four hex digits,
 * eight of them, or at most seven around one `::`; the last may be dotted IPv4, which counts for
 * two. ipaddr.js also takes `00000::1` and a `::` that stands for no group.
 */
function isIPv6Text(address: string): boolean {
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const groups = halves.flatMap((half) => (half === "" ? [] : half.split(":")));
  const last = groups[groups.length - 1];
  const dotted = last !== undefined && last.includes(".");
  if (dotted && !ipaddr.IPv4.isValidFourPartDecimal(last)) return false;
  const hex = dotted ? groups.slice(0, -1) : groups;
  if (!hex.every((group) => HEX_GROUP.test(group))) return false;
  const count = hex.length + (dotted ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** `text` as ipaddr.js's address, where isIP() would call it one. */
function parse(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  const percent = text.indexOf("%");
  if (percent !== -1 && !ZONE.test(text.slice(percent + 1))) return undefined;
  const address = percent === -1 ? text : text.slice(0, percent);
  if (!isIPv6Text(address)) return undefined;
  const colon = address.lastIndexOf(":");
  const tail = address.slice(colon + 1);
  if (!tail.includes(".")) return ipaddr.IPv6.parse(address);
  // A dotted tail (`::ffff:203.0.113.7`) becomes its two groups: ipaddr.js would read `0x1` or `01` there.
  const groups = ipaddr.IPv4.parse(tail).toIPv4MappedAddress().parts.slice(6);
  return ipaddr.IPv6.parse(address.slice(0, colon + 1) + groups.map((group) => group.toString(16)).join(":"));
}

/** IPv4 as IPv4-mapped IPv6, so that `::ffff:203.0.113.7` (a dual-stack server's view of an IPv4 peer) is 203.0.113.7. */
function asIPv6(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv6 {
  return address instanceof ipaddr.IPv4 ? address.toIPv4MappedAddress() : address;
}

/** The ranges a provider sends from, matched with ipaddr.js, as node-allow-list.ts matches them with node:net. */
export function buildAllowList(ranges: readonly string[], where: string): AllowList {
  const networks = ranges.map((range): [ipaddr.IPv6, number] => {
    const [text = "", prefix, extra] = typeof range === "string" ? range.trim().split("/") : [];
    const address = parse(text);
    const width = address instanceof ipaddr.IPv4 ? 32 : 128;
    const bits = prefix === undefined ? width : /^\d{1,3}$/.test(prefix) ? Number(prefix) : Infinity;
    if (!address || extra !== undefined || bits > width) {
      throw new ConfigError(
        `${where}: ${JSON.stringify(range)} is not an IP address or CIDR range (e.g. "203.0.113.0/24", "2001:db8::/32")`,
        "",
      );
    }
    // An IPv4 range is the same range inside ::ffff:0:0/96, where its IPv4-mapped addresses are.
    return [asIPv6(address), bits + 128 - width];
  });
  return {
    allows(ip) {
      const address = typeof ip === "string" ? parse(ip) : undefined;
      if (!address) return false;
      const sender = asIPv6(address);
      return networks.some(([network, bits]) => sender.match(network, bits));
    },
  };
}
