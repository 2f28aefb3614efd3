import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type MergeCandidate, planMerges, settledEnd } from "../../../src/maintenance/merge-plan.js";

const options = { segmentBytes: 1000, minSegmentsPerMerge: 4, maxSegmentsPerMerge: 30 };

/** Contiguous segments from (len, level) pairs, starting at offset 0, 10 offsets each. */
function segments(spec: [number, number][]): MergeCandidate[] {
  return spec.map(([len, level], i) => ({ base: i * 10, end: i * 10 + 10, len, level }));
}

const bases = (runs: MergeCandidate[][]) => runs.map((run) => run.map((s) => s.base));

describe("planMerges", () => {
  it("merges a run of small segments of one level once it has enough members", () => {
    expect(
      planMerges(
        segments([
          [10, 0],
          [10, 0],
          [10, 0],
        ]),
        options,
      ),
    ).toEqual([]);
    expect(
      bases(
        planMerges(
          segments([
            [10, 0],
            [10, 0],
            [10, 0],
            [10, 0],
          ]),
          options,
        ),
      ),
    ).toEqual([[0, 10, 20, 30]]);
  });

  it("caps a run at maxSegmentsPerMerge and at segmentBytes", () => {
    const many = segments(Array.from({ length: 70 }, () => [10, 0] as [number, number]));
    expect(planMerges(many, options).map((r) => r.length)).toEqual([30, 30, 10]);
    const sized = segments(Array.from({ length: 9 }, () => [300, 0] as [number, number]));
    // 300 bytes each: three fit 1000; a run of three is already done (>= 500), so it merges below min.
    expect(planMerges(sized, options).map((r) => r.length)).toEqual([3, 3, 3]);
  });

  it("never merges across levels, across a done segment or across a gap", () => {
    const mixed = segments([
      [10, 1],
      [10, 1],
      [10, 1],
      [10, 0],
      [10, 0],
      [10, 0],
      [10, 0],
      [600, 0],
      [10, 0],
      [10, 0],
    ]);
    expect(bases(planMerges(mixed, options))).toEqual([[30, 40, 50, 60]]);
    const gap = segments([
      [10, 0],
      [10, 0],
      [10, 0],
      [10, 0],
    ]);
    gap[2] = { ...gap[2], base: 25 };
    expect(planMerges(gap, options)).toEqual([]);
  });

  it("property: runs are disjoint, ordered, adjacent, one level, small, within both caps", () => {
    const candidate = fc.record({
      len: fc.integer({ min: 1, max: 900 }),
      level: fc.integer({ min: 0, max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 120 }), fc.integer({ min: 2, max: 8 }), (specs, min) => {
        const segs = segments(specs.map((s) => [s.len, s.level]));
        const opts = { ...options, minSegmentsPerMerge: min, maxSegmentsPerMerge: Math.max(min, 12) };
        const runs = planMerges(segs, opts);
        let lastEnd = -1;
        for (const run of runs) {
          expect(run.length).toBeGreaterThanOrEqual(2);
          expect(run.length).toBeLessThanOrEqual(opts.maxSegmentsPerMerge);
          const bytes = run.reduce((n, s) => n + s.len, 0);
          expect(bytes).toBeLessThanOrEqual(opts.segmentBytes);
          expect(run.length >= min || bytes >= opts.segmentBytes / 2).toBe(true);
          expect(run[0].base).toBeGreaterThanOrEqual(lastEnd);
          for (let i = 0; i < run.length; i++) {
            expect(run[i].len).toBeLessThan(opts.segmentBytes / 2);
            expect(run[i].level).toBe(run[0].level);
            if (i > 0) expect(run[i].base).toBe(run[i - 1].end);
          }
          lastEnd = run[run.length - 1].end;
        }
      }),
    );
  });

  it("property: merging until no run is left terminates, keeps every byte and keeps the index contiguous", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 200 }), (lens) => {
        let segs = segments(lens.map((len) => [len, 0]));
        for (let rounds = 0; ; rounds++) {
          expect(rounds).toBeLessThan(20);
          const runs = planMerges(segs, options);
          if (runs.length === 0) break;
          for (const run of runs) {
            const at = segs.indexOf(run[0]);
            const merged = {
              base: run[0].base,
              end: run[run.length - 1].end,
              len: run.reduce((n, s) => n + s.len, 0),
              level: run[0].level + 1,
            };
            segs = [...segs.slice(0, at), merged, ...segs.slice(at + run.length)];
          }
        }
        expect(segs.reduce((n, s) => n + s.len, 0)).toBe(lens.reduce((n, l) => n + l, 0));
        expect(segs.every((s, i) => i === 0 || s.base === segs[i - 1].end)).toBe(true);
      }),
    );
  });
});

describe("settledEnd", () => {
  it("is the end of the last done segment, or null when there is none", () => {
    expect(
      settledEnd(
        segments([
          [10, 0],
          [10, 0],
        ]),
        1000,
      ),
    ).toBeNull();
    expect(
      settledEnd(
        segments([
          [600, 0],
          [10, 0],
          [700, 2],
          [10, 0],
        ]),
        1000,
      ),
    ).toBe(30);
    expect(settledEnd([], 1000)).toBeNull();
  });
});
