import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareKeys, foldBounds, keyInRange, prefixUpperBound } from "../../../src/storage/order.js";

const utf8Compare = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
/** Strings mixing ASCII, BMP above the surrogates, and astral characters: where orders differ. */
const key = fc.string({
  unit: fc.oneof(
    fc.constantFrom("a", "b", "/", "#", "-", "0"),
    fc.constantFrom("\u00e9", "\uffff", "\ue000", "\ufffd"),
    fc.constantFrom("\u{10000}", "\u{1f600}", "\u{10ffff}"),
  ),
  maxLength: 6,
});

describe("compareKeys", () => {
  it("orders like UTF-8 bytes (code points), not UTF-16 code units", () => {
    expect(compareKeys("\u{1f600}", "\uffff")).toBeGreaterThan(0);
    expect("\u{1f600}" < "\uffff").toBe(true); // what JavaScript's own comparison says
    fc.assert(fc.property(key, key, (a, b) => Math.sign(compareKeys(a, b)) === utf8Compare(a, b)));
  });
});

describe("prefixUpperBound", () => {
  it("bounds exactly the strings with the prefix: p <= s < bound", () => {
    fc.assert(
      fc.property(key, key, (p, s) => {
        const bound = prefixUpperBound(p);
        const inRange = compareKeys(s, p) >= 0 && (bound === undefined || compareKeys(s, bound) < 0);
        return inRange === s.startsWith(p);
      }),
      { numRuns: 2000 },
    );
  });

  it("skips the surrogate range and drops trailing maximal code points", () => {
    expect(prefixUpperBound("ab")).toBe("ac");
    expect(prefixUpperBound("a\ud7ff")).toBe("a\ue000");
    expect(prefixUpperBound("a\u{10ffff}")).toBe("b");
    expect(prefixUpperBound("\u{10ffff}")).toBeUndefined();
    expect(prefixUpperBound("")).toBeUndefined();
  });
});

describe("foldBounds", () => {
  it("matches keyInRange: a key passes the folded bounds iff it passes every bound", () => {
    const range = fc.record({ gt: key, gte: key, lt: key, lte: key, prefix: key }, { requiredKeys: [] });
    fc.assert(
      fc.property(range, key, (r, s) => {
        const { lower, upper, empty } = foldBounds(r);
        const passes =
          !empty &&
          (!lower || compareKeys(s, lower.value) > (lower.inclusive ? -1 : 0)) &&
          (!upper || compareKeys(s, upper.value) < (upper.inclusive ? 1 : 0));
        return passes === keyInRange(s, r);
      }),
      { numRuns: 3000 },
    );
  });
});
