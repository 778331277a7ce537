import { BlockList, isIP } from "node:net";
import type { AllowList } from "../pipeline/source-ip";
import { ConfigError } from "../options/checks";

/** The ranges a provider sends from, as `node:net` matches them: `203.0.113.0/24`, `2001:db8::/32`, or one address. */
export function buildAllowList(ranges: readonly string[], where: string): AllowList {
  const list = new BlockList();
  for (const range of ranges) {
    const [address = "", prefix, extra] = typeof range === "string" ? range.trim().split("/") : [];
    const family = isIP(address);
    // The prefix's own text is checked: Number() reads "" as 0, so "203.0.113.0/" would allow everyone.
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || extra !== undefined || !(bits <= (family === 6 ? 128 : 32))) {
      throw new ConfigError(
        `${where}: ${JSON.stringify(range)} is not an IP address or CIDR range (e.g. "203.0.113.0/24", "2001:db8::/32")`,
        "",
      );
    }
    list.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
  }
  // BlockList matches `::ffff:203.0.113.7`, a dual-stack socket's view of an IPv4 peer, against IPv4 ranges.
  return {
    allows(ip) {
      const family = ip ? isIP(ip) : 0;
      return family !== 0 && list.check(ip as string, family === 6 ? "ipv6" : "ipv4");
    },
  };
}
