import { describe, expect, it } from "vitest";
import {
  GiB,
  MiB,
  mibPerSecond,
  percentile,
  perGiB,
  perMillion,
  round,
  Samples,
} from "../../../bench/support/stats.js";

describe("percentile (nearest rank)", () => {
  it("answers values that occurred, the smallest with p % at or below it", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 99.9)).toBe(100);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile(sorted, 0)).toBe(1);
  });

  it("handles one value, none, and refuses nonsense", () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("takes the 10th of 1000 as p1 and the 991st as p99.1, not an interpolation", () => {
    const sorted = Array.from({ length: 1000 }, (_, i) => i);
    expect(percentile(sorted, 1)).toBe(9);
    expect(percentile(sorted, 99.1)).toBe(990);
  });
});

describe("Samples", () => {
  it("summarises unsorted samples beyond its first allocation", () => {
    const s = new Samples();
    for (let i = 5000; i >= 1; i--) s.push(i);
    const summary = s.summary();
    expect(summary).toMatchObject({ count: 5000, p50: 2500, p99: 4950, p999: 4995, max: 5000 });
    expect(summary.mean).toBeCloseTo(2500.5);
  });

  it("summarises nothing as NaN", () => {
    expect(new Samples().summary()).toMatchObject({ count: 0, p50: Number.NaN, max: Number.NaN });
  });
});

describe("rates", () => {
  it("scales counts to a GiB and to a million records", () => {
    expect(perGiB(10, 256 * MiB)).toBe(40);
    expect(perGiB(1, 0)).toBeNaN();
    expect(perMillion(3, 1000)).toBe(3000);
    expect(mibPerSecond(10 * MiB, 2)).toBe(5);
    expect(GiB).toBe(1024 * MiB);
  });

  it("rounds to three significant digits below 1000", () => {
    expect(round(0.0123456)).toBe(0.0123);
    expect(round(123.456)).toBe(123);
    expect(round(12345.6)).toBe(12346);
    expect(round(Number.NaN)).toBeNaN();
  });
});
