import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tp } from "../../../src/groups/partition-set.js";
import { type MemberAssignment, type ReconcileContext, reconcile } from "../../../src/groups/reconcile.js";

const set = (...ps: number[]) => new Set(ps.map((p) => tp("t", p)));
const sorted = (s: ReadonlySet<string>) => [...s].sort();

function member(overrides: Partial<MemberAssignment> = {}): MemberAssignment {
  return {
    memberEpoch: 1,
    previousMemberEpoch: 0,
    state: "stable",
    assigned: set(),
    revoking: set(),
    revocationDeadline: null,
    grown: false,
    ...overrides,
  };
}

function ctx(overrides: Partial<ReconcileContext> = {}): ReconcileContext {
  return {
    target: set(),
    targetEpoch: 2,
    ownedByOthers: set(),
    reported: undefined,
    now: 1_000,
    rebalanceTimeoutMs: 300,
    ...overrides,
  };
}

describe("reconcile", () => {
  it("revokes first: the member keeps its epoch and only what the target keeps", () => {
    const next = reconcile(
      member({ assigned: set(0, 1, 2) }),
      ctx({ target: set(0, 3), reported: set(0, 1, 2) }),
    );
    expect(next).toMatchObject({ memberEpoch: 1, state: "unrevoked", revocationDeadline: 1_300 });
    expect(sorted(next.assigned)).toEqual(sorted(set(0)));
    expect(sorted(next.revoking)).toEqual(sorted(set(1, 2)));
  });

  it("finishes the revocation once the member stops listing the partitions, then takes free ones", () => {
    const revoking = member({
      assigned: set(0),
      revoking: set(1, 2),
      state: "unrevoked",
      revocationDeadline: 1_300,
    });
    const still = reconcile(revoking, ctx({ target: set(0, 3), reported: set(0, 2) }));
    expect(still).toMatchObject({ memberEpoch: 1, state: "unrevoked", revocationDeadline: 1_300 });

    const done = reconcile(revoking, ctx({ target: set(0, 3), reported: set(0) }));
    expect(done).toMatchObject({
      memberEpoch: 2,
      previousMemberEpoch: 1,
      state: "stable",
      revocationDeadline: null,
    });
    expect(sorted(done.assigned)).toEqual(sorted(set(0, 3)));
    expect(done.revoking.size).toBe(0);
  });

  it("never releases on a heartbeat that does not say what it owns", () => {
    const revoking = member({
      assigned: set(0),
      revoking: set(1),
      state: "unrevoked",
      revocationDeadline: 1_300,
    });
    expect(reconcile(revoking, ctx({ target: set(0) })).state).toBe("unrevoked");
    expect(reconcile(member({ assigned: set(0, 1) }), ctx({ target: set(0) })).state).toBe("unrevoked");
  });

  it("skips the round trip when the member already reports a dropped partition as gone", () => {
    const next = reconcile(member({ assigned: set(0, 1) }), ctx({ target: set(0), reported: set(0) }));
    expect(next).toMatchObject({ memberEpoch: 2, state: "stable" });
    expect(sorted(next.assigned)).toEqual(sorted(set(0)));
  });

  it("advances the epoch but waits for partitions other members still hold", () => {
    const next = reconcile(
      member({ assigned: set(0) }),
      ctx({ target: set(0, 1, 2), ownedByOthers: set(2) }),
    );
    expect(next).toMatchObject({ memberEpoch: 2, state: "unreleased" });
    expect(sorted(next.assigned)).toEqual(sorted(set(0, 1)));
    const later = reconcile(next, ctx({ target: set(0, 1, 2), ownedByOthers: set() }));
    expect(later).toMatchObject({ memberEpoch: 2, previousMemberEpoch: 1, state: "stable" });
    expect(sorted(later.assigned)).toEqual(sorted(set(0, 1, 2)));
  });

  it("adds what a newer target drops to a revocation in flight, keeping its deadline", () => {
    const revoking = member({
      assigned: set(0, 1),
      revoking: set(2),
      state: "unrevoked",
      revocationDeadline: 1_300,
    });
    const next = reconcile(
      revoking,
      ctx({ target: set(0), targetEpoch: 3, reported: set(0, 1, 2), now: 1_200 }),
    );
    expect(next).toMatchObject({ memberEpoch: 1, state: "unrevoked", revocationDeadline: 1_300 });
    expect(sorted(next.revoking)).toEqual(sorted(set(1, 2)));
  });

  it("never assigns a partition another member holds, nor one it is still revoking", () => {
    const partitions = fc.uniqueArray(fc.nat(11), { maxLength: 12 }).map((ps) => set(...ps));
    fc.assert(
      fc.property(
        partitions,
        partitions,
        partitions,
        partitions,
        fc.option(partitions, { nil: undefined }),
        (assigned, revoking, target, others, reported) => {
          const m = member({
            assigned,
            revoking: new Set([...revoking].filter((k) => !assigned.has(k))),
            state: revoking.size > 0 ? "unrevoked" : "stable",
          });
          const ownedByOthers = new Set([...others].filter((k) => !assigned.has(k) && !m.revoking.has(k)));
          const next = reconcile(m, ctx({ target, ownedByOthers, reported }));
          for (const k of next.assigned) {
            expect(ownedByOthers.has(k)).toBe(false);
            expect(next.revoking.has(k)).toBe(false);
            // Anything new is only picked up once nothing is left to revoke.
            if (!m.assigned.has(k)) expect(next.revoking.size).toBe(0);
            expect(target.has(k)).toBe(true);
          }
          // Nothing the member might still hold is forgotten unless it said it let go.
          for (const k of [...m.assigned, ...m.revoking]) {
            if (!next.assigned.has(k) && !next.revoking.has(k)) expect(reported?.has(k)).toBe(false);
          }
          if (next.state === "unrevoked") expect(next.memberEpoch).toBe(m.memberEpoch);
          else expect(next.memberEpoch).toBe(2);
        },
      ),
    );
  });
});
