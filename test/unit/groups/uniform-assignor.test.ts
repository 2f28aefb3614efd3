import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AssignmentSpec, TargetAssignment } from "../../../src/groups/assignor.js";
import { IndexedHeap } from "../../../src/groups/indexed-heap.js";
import { parseTp, tp } from "../../../src/groups/partition-set.js";
import { uniformAssignor } from "../../../src/groups/uniform-assignor.js";
import { referenceUniformAssignor } from "./reference-uniform-assignor.js";

const TOPICS = ["a", "b", "c", "d", "e"];

/** Any spec: differing subscriptions, previous assignments that overlap, name gone topics or partitions. */
const specArb: fc.Arbitrary<AssignmentSpec> = fc
  .record({
    counts: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 5, maxLength: 5 }),
    ids: fc.uniqueArray(
      fc.string({ unit: fc.constantFrom("m", "x", "1", "2"), minLength: 1, maxLength: 3 }),
      {
        minLength: 1,
        maxLength: 9,
      },
    ),
    picks: fc.array(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), { minLength: 9, maxLength: 9 }),
    homogeneous: fc.boolean(),
    previous: fc.array(fc.tuple(fc.nat(20), fc.constantFrom(...TOPICS, "gone"), fc.nat(24)), {
      maxLength: 60,
    }),
  })
  .map(({ counts, ids, picks, homogeneous, previous }) => {
    const partitionCounts = new Map<string, number>();
    counts.forEach((n, i) => {
      if (n > 0) partitionCounts.set(TOPICS[i], n);
    });
    const members = ids.map((memberId, i) => ({
      memberId,
      topics: homogeneous ? TOPICS.slice(0, 3) : TOPICS.filter((_, j) => picks[i][j]),
    }));
    const prev = new Map<string, Set<string>>();
    for (const [i, topic, p] of previous) {
      const id = ids[i % ids.length];
      if (!prev.has(id)) prev.set(id, new Set());
      prev.get(id)!.add(tp(topic, p));
    }
    return { members, partitionCounts, previous: prev };
  });

function sorted(target: TargetAssignment): [string, string[]][] {
  return [...target].map(([id, set]) => [id, [...set].sort()] as [string, string[]]).sort();
}

describe("uniform assignor in O(P log M)", () => {
  it("makes exactly the choices of the quadratic version it replaces", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        expect(sorted(uniformAssignor.assign(spec))).toEqual(sorted(referenceUniformAssignor.assign(spec)));
      }),
      { numRuns: 500 },
    );
  });

  it("matches it over a sequence of rebalances, each seeded with the one before", () => {
    fc.assert(
      fc.property(fc.array(specArb, { minLength: 2, maxLength: 5 }), (specs) => {
        let previous: TargetAssignment = new Map();
        for (const spec of specs) {
          const next = uniformAssignor.assign({ ...spec, previous });
          expect(sorted(next)).toEqual(sorted(referenceUniformAssignor.assign({ ...spec, previous })));
          previous = next;
        }
      }),
    );
  });

  it("assigns every subscribed partition exactly once, to a subscriber of its topic", () => {
    fc.assert(
      fc.property(specArb, (spec) => {
        const target = uniformAssignor.assign(spec);
        const seen = new Set<string>();
        for (const [id, set] of target) {
          const topics = spec.members.find((m) => m.memberId === id)!.topics;
          for (const key of set) {
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            expect(topics).toContain(parseTp(key).topic);
          }
        }
        const subscribed = new Set(spec.members.flatMap((m) => m.topics));
        let expected = 0;
        for (const [topic, n] of spec.partitionCounts) if (subscribed.has(topic)) expected += n;
        expect(seen.size).toBe(expected);
      }),
    );
  });

  it("balances a large topic among joining members and moves only what balance needs", () => {
    const counts = new Map([["t", 10_000]]);
    const members = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ memberId: `m${i}`, topics: ["t"] }));
    const one = uniformAssignor.assign({ members: members(1), partitionCounts: counts, previous: new Map() });
    const two = uniformAssignor.assign({ members: members(2), partitionCounts: counts, previous: one });
    expect([...two.values()].map((s) => s.size)).toEqual([5_000, 5_000]);
    // m0 keeps its lower half; m1 gets the partitions m0 gave up, nothing else moved.
    expect([...two.get("m0")!].every((k) => parseTp(k).partition < 5_000)).toBe(true);
    const many = uniformAssignor.assign({ members: members(3_000), partitionCounts: counts, previous: two });
    const loads = [...many.values()].map((s) => s.size);
    expect(Math.max(...loads) - Math.min(...loads)).toBe(1);
    for (const id of ["m0", "m1"]) for (const k of many.get(id)!) expect(two.get(id)!.has(k)).toBe(true);
  });
});

describe("IndexedHeap", () => {
  it("answers ids in priority order while priorities change", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(29), fc.integer({ min: -3, max: 3 }))),
        (initial, changes) => {
          const priority = [...initial];
          const before = (a: number, b: number) =>
            priority[a] < priority[b] || (priority[a] === priority[b] && a < b);
          const heap = new IndexedHeap(priority.length, before);
          priority.forEach((_, id) => {
            heap.push(id);
          });
          for (const [i, delta] of changes) {
            const id = i % priority.length;
            priority[id] += delta;
            heap.update(id);
          }
          const out: number[] = [];
          for (let id = heap.pop(); id !== undefined; id = heap.pop()) out.push(id);
          const expected = priority.map((_, id) => id).sort((a, b) => (before(a, b) ? -1 : 1));
          expect(out).toEqual(expected);
        },
      ),
    );
  });
});
