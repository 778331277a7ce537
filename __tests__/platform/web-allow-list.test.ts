/**
 * The web entry's allowlist (ipaddr.js) against the main entry's (node:net's isIP() and BlockList)
 * as the oracle: for generated entries and senders, both refuse the same entries with the same
 * message, and let in the same senders. Where they differ on purpose, the web one is the stricter.
 * FUZZ_SCALE multiplies the runs.
 */
import fc from "fast-check";
import { buildAllowList as nodeAllowList } from "../../lib/platform/node-allow-list";
import { buildAllowList as webAllowList } from "../../lib/platform/web-allow-list";
import type { AllowList } from "../../lib/pipeline/source-ip";

const runs = (n: number) => Math.max(1, Math.round(n * Number(process.env.FUZZ_SCALE ?? 1)));
const WHERE = "providers.test.allowedIps";

function build(builder: typeof nodeAllowList, ranges: string[]): AllowList | string {
  try {
    return builder(ranges, WHERE);
  } catch (err) {
    return (err as Error).message;
  }
}

/** What building a list came to: its start-up error's message, or "built". */
const outcome = (list: AllowList | string) => (typeof list === "string" ? list : "built");

// Every text form of an address: IPv4; IPv6 in upper or lower case, with a run of groups
// compressed to `::` anywhere, with a dotted IPv4 tail or not; and the addresses where IPv4 and
// IPv6 meet (mapped, IPv4-compatible, NAT64), with and without a zone.
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join("."));
const ipv6 = fc
  .tuple(fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }), fc.nat(8), fc.nat(8), fc.boolean(), fc.boolean())
  .map(([groups, from, length, dotted, upper]) => {
    let parts = groups.map((group) => group.toString(16));
    if (dotted) parts = [...parts.slice(0, 6), [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".")];
    const text =
      length > 0 && from < parts.length ? `${parts.slice(0, from).join(":")}::${parts.slice(from + length).join(":")}` : parts.join(":");
    return upper ? text.toUpperCase() : text;
  });
const meeting = fc.constantFrom(
  "::",
  "::1",
  "127.0.0.1",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "0:0:0:0:0:ffff:127.0.0.1",
  "::127.0.0.1",
  "::7f00:1",
  "64:ff9b::127.0.0.1",
  "::fffe:7f00:1",
  "0.0.0.0",
  "255.255.255.255",
  "::ffff:ffff:ffff",
  "fe80::1%eth0",
  "::ffff:127.0.0.1%eth0",
);
const address = fc.oneof(ipv4, ipv6, meeting);
const range = fc.tuple(address, fc.option(fc.nat(130))).map(([text, bits]) => (bits === null ? text : `${text}/${bits}`));

test("entries and senders in every text form: the same entries refused with the same message, the same senders let in", () => {
  const seen = { refused: 0, built: 0, allowed: 0, denied: 0 };
  fc.assert(
    fc.property(fc.array(range, { minLength: 1, maxLength: 3 }), fc.array(address, { maxLength: 12 }), (ranges, senders) => {
      const node = build(nodeAllowList, ranges);
      const web = build(webAllowList, ranges);
      if (typeof node === "string" || typeof web === "string") {
        seen.refused++;
        expect(web).toBe(node);
        return;
      }
      seen.built++;
      // The entries' own addresses are senders too, so that every list lets someone in.
      for (const sender of [...senders, ...ranges.map((entry) => entry.split("/")[0])]) {
        const allowed = node.allows(sender);
        seen[allowed ? "allowed" : "denied"]++;
        expect([sender, web.allows(sender)]).toEqual([sender, allowed]);
      }
    }),
    { numRuns: runs(3000) },
  );
  // The generators reach every outcome, or the comparison above proves little.
  expect(Math.min(seen.refused, seen.built, seen.allowed, seen.denied)).toBeGreaterThan(100);
});

// Near-addresses: bad octets, hex and octal parts, stray colons, groups too long, zones, spaces.
const octet = fc.oneof(fc.nat(255).map(String), fc.constantFrom("256", "01", "0x1", "00", "1e1", "", "-1"));
const group = fc.oneof(
  fc.nat(0xffff).map((n) => n.toString(16)),
  fc.constantFrom("", "00000", "12345", "g", "FFFF"),
);
const nearIpv4 = fc.array(octet, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("."));
const nearIpv6 = fc
  .tuple(
    fc.array(group, { maxLength: 9 }),
    fc.option(fc.tuple(octet, octet, octet, octet).map((octets) => octets.join("."))),
    fc.option(fc.constantFrom("%eth0", "%a.b", "%a:b", "%", "%a%b", "%-", "%é")),
  )
  // node:net refuses some long zoned addresses with a dotted tail ("Invalid socket address") that
  // isIP() takes; no socket reports one, and the web list does not copy that.
  .filter(([, tail, zone]) => tail === null || zone === null)
  .map(([groups, tail, zone]) => `${groups.join(":")}${tail === null ? "" : `:${tail}`}${zone ?? ""}`);
const nearAddress = fc.oneof(nearIpv4, nearIpv6, fc.constantFrom(" 127.0.0.1", "127.0.0.1 ", "::1 ", "localhost", ""));
const nearRange = fc.tuple(nearAddress, fc.option(fc.nat(130))).map(([text, bits]) => (bits === null ? text : `${text}/${bits}`));

test("near-addresses, as entries and as senders: refused alike, with the same message", () => {
  const seen = { refused: 0, built: 0, allowed: 0, denied: 0 };
  // Every address is inside these: a sender is let in exactly where it is read as an address.
  const everyone = ["0.0.0.0/0", "::/0"];
  const open = { node: nodeAllowList(everyone, WHERE), web: webAllowList(everyone, WHERE) };
  fc.assert(
    fc.property(nearRange, fc.array(nearAddress, { maxLength: 8 }), (entry, senders) => {
      const node = outcome(build(nodeAllowList, [entry]));
      seen[node === "built" ? "built" : "refused"]++;
      expect(outcome(build(webAllowList, [entry]))).toBe(node);
      for (const sender of senders) {
        const allowed = open.node.allows(sender);
        seen[allowed ? "allowed" : "denied"]++;
        expect([sender, open.web.allows(sender)]).toEqual([sender, allowed]);
      }
    }),
    { numRuns: runs(3000) },
  );
  expect(Math.min(seen.refused, seen.built, seen.allowed, seen.denied)).toBeGreaterThan(50);
});

test("the forms ipaddr.js reads but node:net does not are refused, never read into a range", () => {
  for (const entry of ["0xcb.0.113.0/24", "203.0.113", "0313.0.113.9", "203.0.29449", "::ffff:0xcb.0.113.9", "::ffff:203.0.113.09"]) {
    expect(build(webAllowList, [entry])).toBe(build(nodeAllowList, [entry]));
    expect(build(webAllowList, [entry])).toMatch(/is not an IP address or CIDR range/);
  }
  const web = webAllowList(["203.0.113.0/24"], WHERE);
  // `::203.0.113.9` is IPv4-compatible, not IPv4-mapped: ipaddr.js alone would read it as the latter.
  expect(["::ffff:203.0.113.9", "::203.0.113.9", "0xcb.0.113.9", "203.0.29449", "0313.0.113.9"].map((ip) => web.allows(ip))).toEqual([
    true,
    false,
    false,
    false,
    false,
  ]);
});

test("a prefix is decimal digits: an empty or other one is refused (node-allow-list.ts reads it with Number())", () => {
  for (const entry of ["203.0.113.0/", "203.0.113.0/0x18", "203.0.113.0/ 24", "203.0.113.0/24.0", "203.0.113.0/+24", "2001:db8::/"]) {
    expect(build(webAllowList, [entry])).toBe(
      `${WHERE}: ${JSON.stringify(entry)} is not an IP address or CIDR range (e.g. "203.0.113.0/24", "2001:db8::/32")`,
    );
  }
  expect(webAllowList(["203.0.113.0/024"], WHERE).allows("203.0.113.9")).toBe(true);
});

test("a sender that is no string is refused, as node-allow-list.ts refuses it", () => {
  const web = webAllowList(["0.0.0.0/0", "::/0"], WHERE);
  for (const sender of [undefined, 2130706433, { address: "127.0.0.1" }]) expect(web.allows(sender as unknown as string)).toBe(false);
  expect(web.allows("127.0.0.1")).toBe(true);
});
