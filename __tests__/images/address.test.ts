// The address check against ipaddr.js's list of special ranges: every range that is not plain
// unicast is refused, at its first and last address and one between, so a form of a private
// address that the list forgot (as it once forgot ::ffff:0:7f00:1 and ::127.0.0.1) fails here.
import ipaddr from "ipaddr.js";
import { isRefusedAddress } from "../../lib/images/address";

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A range's first, last and middle address, as text. */
function samples([network, bits]: Cidr): string[] {
  const bytes = network.toByteArray();
  const first = bytes.map((byte, i) => (i * 8 >= bits ? 0 : i * 8 + 8 <= bits ? byte : byte & (0xff << (8 - (bits - i * 8)))));
  const last = first.map((byte, i) => (i * 8 >= bits ? 255 : i * 8 + 8 <= bits ? byte : byte | (0xff >> (bits - i * 8))));
  const middle = first.map((byte, i) => (i === first.length - 1 ? byte | 1 : byte | (last[i]! & 0x5a)));
  return [first, middle, last].map((address) => ipaddr.fromByteArray(address).toString());
}

/** ipaddr.js's named ranges of one kind: name, CIDR as text, CIDR. */
function ranges(kind: typeof ipaddr.IPv4 | typeof ipaddr.IPv6): [string, string, Cidr][] {
  const special = (kind.prototype as unknown as { SpecialRanges: Record<string, Cidr | Cidr[]> }).SpecialRanges;
  return Object.entries(special).flatMap(([name, value]) =>
    (Array.isArray(value[0]) ? (value as Cidr[]) : [value as Cidr]).map((cidr): [string, string, Cidr] => [
      name,
      `${cidr[0].toString()}/${cidr[1]}`,
      cidr,
    ]),
  );
}

test.each([...ranges(ipaddr.IPv4), ...ranges(ipaddr.IPv6)].filter(([name]) => name !== "unicast" && name !== "ipv4Mapped"))(
  "ipaddr.js's %s range (%s) is refused",
  (_name, _text, cidr) => {
    for (const address of samples(cidr)) expect([address, isRefusedAddress(address)]).toEqual([address, true]);
  },
);

test("an IPv4-mapped address is judged by the IPv4 address inside, in both spellings", () => {
  for (const [name, , cidr] of ranges(ipaddr.IPv4)) {
    for (const address of samples(cidr)) {
      const mapped = ipaddr.IPv4.parse(address).toIPv4MappedAddress();
      expect([name, mapped.toString(), isRefusedAddress(mapped.toString())]).toEqual([name, mapped.toString(), true]);
      expect([name, `::ffff:${address}`, isRefusedAddress(`::ffff:${address}`)]).toEqual([name, `::ffff:${address}`, true]);
    }
  }
  expect(isRefusedAddress("::ffff:93.184.215.14")).toBe(false);
});

test.each([
  ["IPv4-translated (::ffff:0:0:0/96)", "::ffff:0:7f00:1"],
  ["IPv4-translated, dotted", "::ffff:0:127.0.0.1"],
  ["IPv4-compatible (::/96)", "::127.0.0.1"],
  ["IPv4-compatible, hex", "::7f00:1"],
  ["IPv4-compatible, a public address inside", "::93.184.215.14"],
  ["IPv4-compatible, bracketed", "[::a9fe:a9fe]"],
  ["link-local with a zone", "fe80::1%eth0.5"],
])("%s: %s is refused", (_name, address) => {
  expect(isRefusedAddress(address)).toBe(true);
});

test("public unicast addresses pass", () => {
  for (const address of ["93.184.215.14", "8.8.8.8", "2606:2800:21f:cb07:6820:80da:af6b:4b4e", "2a00:1450:4001:82a::200e"]) {
    expect([address, isRefusedAddress(address)]).toEqual([address, false]);
  }
});
