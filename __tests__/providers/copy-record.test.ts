import { copyRecord } from "../../lib/providers/provider";

describe("copyRecord, the params copy of normalization", () => {
  test.each([[3], [64], [65], [1000]])(
    "copies %i keys as an object spread would, own __proto__ included, without touching prototypes",
    (n) => {
      const source = JSON.parse(
        `{${[...Array.from({ length: n - 1 }, (_, i) => `"k${i}":${i}`), '"__proto__":{"polluted":true}'].join(",")}}`,
      );
      const copy = copyRecord(source);
      expect(copy).not.toBe(source);
      expect(Object.keys(copy)).toEqual(Object.keys({ ...source }));
      expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toEqual({ polluted: true });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      copy.k0 = "changed";
      expect(source.k0).not.toBe("changed");
    },
  );
});
