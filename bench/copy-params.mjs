// Ways to copy a large crazyhorse `params` (a 90 KB delivery's, about 1,000 keys) as
// generation.params is copied from the payload's, in CPU µs per copy, garbage collection included:
// the median of 7 rounds of 2,000 copies each, the ways interleaved.
//   node bench/copy-params.mjs [--size 90000]
import { parseArgs } from "node:util";
import { crazyhorseTemplate, uniqueCode } from "./payloads.mjs";

const { values: flags } = parseArgs({ options: { size: { type: "string", default: "90000" } } });
const { head, tail } = crazyhorseTemplate(Number(flags.size));
const bodies = Array.from({ length: 200 }, () => JSON.parse(head + uniqueCode() + tail));

const PROTO = "__proto__";
const defineOwn = (copy, key, value) => Object.defineProperty(copy, key, { value, writable: true, enumerable: true, configurable: true });
const dictionary = () => {
  const copy = { dictionaryMode: true };
  delete copy.dictionaryMode;
  return copy;
};
const ways = {
  // lib/providers/provider.ts's copyRecord, past its spread's 64 keys.
  "keys into a dictionary (copyRecord)": (record) => {
    const copy = dictionary();
    for (const key of Object.keys(record)) {
      if (key === PROTO) defineOwn(copy, key, record[key]);
      else copy[key] = record[key];
    }
    return copy;
  },
  "for…in into a dictionary": (record) => {
    const copy = dictionary();
    for (const key in record) {
      if (key === PROTO) defineOwn(copy, key, record[key]);
      else copy[key] = record[key];
    }
    return copy;
  },
  "for…in, own keys only": (record) => {
    const copy = dictionary();
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      if (key === PROTO) defineOwn(copy, key, record[key]);
      else copy[key] = record[key];
    }
    return copy;
  },
  "keys into {}": (record) => {
    const copy = {};
    for (const key of Object.keys(record)) copy[key] = record[key];
    return copy;
  },
  "Object.assign({}, …)": (record) => Object.assign({}, record),
  spread: (record) => ({ ...record }),
  "structuredClone (deep)": (record) => globalThis.structuredClone(record),
};

console.log(`params of ${Object.keys(bodies[0].params).length} keys; CPU µs per copy, median of 7 rounds`);
const times = new Map(Object.keys(ways).map((name) => [name, []]));
for (let round = 0; round < 7; round++) {
  for (const [name, copy] of Object.entries(ways)) {
    const start = process.cpuUsage();
    for (let rep = 0; rep < 10; rep++) for (const body of bodies) copy(body.params);
    const used = process.cpuUsage(start);
    times.get(name).push((used.user + used.system) / (10 * bodies.length));
  }
}
for (const [name, xs] of times) console.log(`  ${name.padEnd(38)} ${xs.sort((a, b) => a - b)[3].toFixed(1)}`);
