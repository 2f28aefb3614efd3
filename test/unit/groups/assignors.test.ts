import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ASSIGNORS, type AssignmentSpec, type TargetAssignment } from "../../../src/groups/assignor.js";
import { parseTp, type PartitionSet, tp } from "../../../src/groups/partition-set.js";

const uniform = ASSIGNORS.uniform;
const range = ASSIGNORS.range;

/** Topic name → partition count. */
const topicsArb = fc
  .uniqueArray(fc.constantFrom("a", "b", "c", "d", "e"), { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc.tuple(...names.map((n) => fc.integer({ min: 1, max: 24 }).map((c) => [n, c] as const))),
  )
  .map((entries) => new Map<string, number>(entries));

const memberIdsArb = (min: number, max: number) =>
  fc.uniqueArray(
    fc.string({ unit: fc.constantFrom("m", "x", "1", "2", "3", "-"), minLength: 1, maxLength: 4 }),
    {
      minLength: min,
      maxLength: max,
    },
  );

function homogeneous(ids: string[], counts: Map<string, number>): AssignmentSpec["members"] {
  return ids.map((memberId) => ({ memberId, topics: [...counts.keys()] }));
}

function allPartitions(counts: ReadonlyMap<string, number>, topics?: Iterable<string>): string[] {
  const out: string[] = [];
  for (const t of topics ?? counts.keys()) {
    for (let p = 0; p < (counts.get(t) ?? 0); p++) out.push(tp(t, p));
  }
  return out;
}

/** Every subscribed partition exactly once, each to a member subscribed to its topic. */
function expectComplete(spec: AssignmentSpec, target: TargetAssignment): void {
  expect([...target.keys()].sort()).toEqual(spec.members.map((m) => m.memberId).sort());
  const seen = new Map<string, string>();
  for (const [memberId, set] of target) {
    const topics = new Set(spec.members.find((m) => m.memberId === memberId)!.topics);
    for (const key of set) {
      expect(seen.has(key), `${key} assigned to ${seen.get(key)} and ${memberId}`).toBe(false);
      seen.set(key, memberId);
      expect(topics.has(parseTp(key).topic)).toBe(true);
    }
  }
  const subscribed = new Set(spec.members.flatMap((m) => m.topics));
  expect([...seen.keys()].sort()).toEqual(allPartitions(spec.partitionCounts, subscribed).sort());
}

function loads(target: TargetAssignment): number[] {
  return [...target.values()].map((s) => s.size);
}

/** Partitions that had a surviving owner in `previous` and now belong to someone else. */
function moved(previous: ReadonlyMap<string, PartitionSet>, next: TargetAssignment): number {
  let n = 0;
  for (const [id, before] of previous) {
    const after = next.get(id);
    if (!after) continue;
    for (const key of before) if (!after.has(key)) n++;
  }
  return n;
}

/**
 * The fewest moves any balanced assignment needs: members keep at most their quota, and only as
 * many of them as there are remainder partitions may keep one more than the floor.
 */
function minimalMoves(previous: ReadonlyMap<string, PartitionSet>, ids: string[], total: number): number {
  const quota = Math.floor(total / ids.length);
  const extra = total % ids.length;
  const kept = ids.map((id) => previous.get(id)?.size ?? 0);
  const over = kept.filter((c) => c > quota);
  return over.reduce((n, c) => n + c - quota, 0) - Math.min(extra, over.length);
}

function previousOf(target: TargetAssignment, counts: ReadonlyMap<string, number>): Map<string, Set<string>> {
  // Only partitions that still exist count as kept.
  const valid = new Set(allPartitions(counts));
  return new Map([...target].map(([id, set]) => [id, new Set([...set].filter((k) => valid.has(k)))]));
}

describe("uniform assignor", () => {
  it("assigns every partition once, balanced within one, for identical subscriptions", () => {
    fc.assert(
      fc.property(topicsArb, memberIdsArb(1, 12), (counts, ids) => {
        const spec: AssignmentSpec = {
          members: homogeneous(ids, counts),
          partitionCounts: counts,
          previous: new Map(),
        };
        const target = uniform.assign(spec);
        expectComplete(spec, target);
        const l = loads(target);
        expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("moves the minimum a balanced result needs when members join and leave", () => {
    fc.assert(
      fc.property(
        topicsArb,
        memberIdsArb(1, 10),
        memberIdsArb(1, 10),
        fc.integer({ min: 0, max: 8 }),
        (counts, before, joiners, grow) => {
          const first = uniform.assign({
            members: homogeneous(before, counts),
            partitionCounts: counts,
            previous: new Map(),
          });
          // Some leave, some join, and a topic may gain partitions: one rebalance with all three.
          const after = [...new Set([...before.filter((_, i) => i % 3 !== 1), ...joiners])];
          const grown = new Map(counts);
          const [firstTopic] = counts.keys();
          grown.set(firstTopic, counts.get(firstTopic)! + grow);
          const previous = previousOf(first, grown);
          const spec: AssignmentSpec = {
            members: homogeneous(after, grown),
            partitionCounts: grown,
            previous,
          };
          const next = uniform.assign(spec);
          expectComplete(spec, next);
          const l = loads(next);
          expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
          expect(moved(previous, next)).toBe(minimalMoves(previous, after, allPartitions(grown).length));
        },
      ),
    );
  });

  it("keeps everything when nothing changed", () => {
    fc.assert(
      fc.property(topicsArb, memberIdsArb(1, 10), (counts, ids) => {
        const members = homogeneous(ids, counts);
        const first = uniform.assign({ members, partitionCounts: counts, previous: new Map() });
        const again = uniform.assign({ members, partitionCounts: counts, previous: first });
        expect(again).toEqual(first);
      }),
    );
  });

  it("repairs an arbitrary, even overlapping, previous assignment", () => {
    fc.assert(
      fc.property(
        topicsArb,
        memberIdsArb(1, 8),
        fc.array(fc.tuple(fc.nat(20), fc.constantFrom("a", "b", "c", "d", "e", "gone"), fc.nat(30))),
        (counts, ids, junk) => {
          const previous = new Map<string, Set<string>>(ids.map((id) => [id, new Set<string>()]));
          for (const [i, topic, p] of junk) previous.get(ids[i % ids.length])!.add(tp(topic, p));
          const spec: AssignmentSpec = {
            members: homogeneous(ids, counts),
            partitionCounts: counts,
            previous,
          };
          const target = uniform.assign(spec);
          expectComplete(spec, target);
          const l = loads(target);
          expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
        },
      ),
    );
  });

  it("with differing subscriptions, leaves no member able to take load from one holding two more", () => {
    fc.assert(
      fc.property(
        topicsArb,
        memberIdsArb(1, 8),
        fc.array(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), { minLength: 8, maxLength: 8 }),
        (counts, ids, picks) => {
          const names = [...counts.keys()];
          const members = ids.map((memberId, i) => ({
            memberId,
            topics: names.filter((_, j) => picks[i][j]),
          }));
          const spec: AssignmentSpec = { members, partitionCounts: counts, previous: new Map() };
          const target = uniform.assign(spec);
          expectComplete(spec, target);
          for (const from of members) {
            for (const to of members) {
              const gap = target.get(from.memberId)!.size - target.get(to.memberId)!.size;
              if (gap < 2) continue;
              const takeable = [...target.get(from.memberId)!].some((k) =>
                to.topics.includes(parseTp(k).topic),
              );
              expect(takeable, `${to.memberId} could take from ${from.memberId}`).toBe(false);
            }
          }
        },
      ),
    );
  });

  it("spreads six partitions over three members two each; a fourth takes one partition, a fifth another", () => {
    const counts = new Map([["t", 6]]);
    const first = uniform.assign({
      members: homogeneous(["a", "b", "c"], counts),
      partitionCounts: counts,
      previous: new Map(),
    });
    expect(loads(first)).toEqual([2, 2, 2]);
    const next = uniform.assign({
      members: homogeneous(["a", "b", "c", "d"], counts),
      partitionCounts: counts,
      previous: first,
    });
    expect(moved(first, next)).toBe(1);
    expect(loads(next).sort()).toEqual([1, 1, 2, 2]);
    const fifth = uniform.assign({
      members: homogeneous(["a", "b", "c", "d", "e"], counts),
      partitionCounts: counts,
      previous: next,
    });
    expect(moved(next, fifth)).toBe(1);
    expect(fifth.get("d")).toEqual(next.get("d"));
  });

  it("assigns nothing to members whose topics do not exist", () => {
    const counts = new Map([["t", 3]]);
    const spec: AssignmentSpec = {
      members: [
        { memberId: "a", topics: ["missing"] },
        { memberId: "b", topics: ["t"] },
      ],
      partitionCounts: counts,
      previous: new Map([["a", new Set([tp("t", 0)])]]),
    };
    const target = uniform.assign(spec);
    expect([...target.get("a")!]).toEqual([]);
    expect([...target.get("b")!].sort()).toEqual(["t#0", "t#1", "t#2"]);
  });
});

describe("range assignor", () => {
  it("gives each subscribed member a contiguous run of each topic, balanced within one per topic", () => {
    fc.assert(
      fc.property(topicsArb, memberIdsArb(1, 10), (counts, ids) => {
        const spec: AssignmentSpec = {
          members: homogeneous(ids, counts),
          partitionCounts: counts,
          previous: new Map(),
        };
        const target = range.assign(spec);
        expectComplete(spec, target);
        const sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const [topic, count] of counts) {
          let next = 0;
          for (const id of sorted) {
            const mine = [...target.get(id)!]
              .map(parseTp)
              .filter((x) => x.topic === topic)
              .map((x) => x.partition)
              .sort((a, b) => a - b);
            expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => next + i));
            expect(Math.abs(mine.length - count / ids.length)).toBeLessThan(1);
            next += mine.length;
          }
        }
      }),
    );
  });

  it("co-partitions: members subscribed to two equally sized topics get the same partition numbers", () => {
    const counts = new Map([
      ["orders", 5],
      ["payments", 5],
    ]);
    const target = range.assign({
      members: homogeneous(["m2", "m1"], counts),
      partitionCounts: counts,
      previous: new Map(),
    });
    expect([...target.get("m1")!].sort()).toEqual([
      "orders#0",
      "orders#1",
      "orders#2",
      "payments#0",
      "payments#1",
      "payments#2",
    ]);
    expect([...target.get("m2")!].sort()).toEqual(["orders#3", "orders#4", "payments#3", "payments#4"]);
  });

  it("only considers subscribers of each topic", () => {
    fc.assert(
      fc.property(
        topicsArb,
        memberIdsArb(1, 8),
        fc.array(fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), { minLength: 8, maxLength: 8 }),
        (counts, ids, picks) => {
          const names = [...counts.keys()];
          const members = ids.map((memberId, i) => ({
            memberId,
            topics: names.filter((_, j) => picks[i][j]),
          }));
          const spec: AssignmentSpec = { members, partitionCounts: counts, previous: new Map() };
          expectComplete(spec, range.assign(spec));
        },
      ),
    );
  });
});
