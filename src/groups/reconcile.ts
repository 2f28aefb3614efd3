import { difference, intersection, intersects, type PartitionSet } from "./partition-set.js";

/** KIP-848's MemberState, as far as dynamic members need it. */
export type MemberState = "stable" | "unrevoked" | "unreleased";

export interface MemberAssignment {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  /** What the member may consume: sent in every heartbeat response. */
  assigned: PartitionSet;
  /** Taken from the member but maybe still consumed by it: nobody else may have these yet. */
  revoking: PartitionSet;
  /** When a revocation in flight must be done (the rebalance timeout), else null. */
  revocationDeadline: number | null;
}

export interface ReconcileContext {
  target: PartitionSet;
  targetEpoch: number;
  /** Every other member's assigned and revoking partitions. */
  ownedByOthers: PartitionSet;
  /** The member's ownedPartitions from this heartbeat; undefined when it did not say. */
  reported: PartitionSet | undefined;
  now: number;
  rebalanceTimeoutMs: number;
}

/**
 * One step of a member towards its target (KIP-848's CurrentAssignmentBuilder). Partitions leave a
 * member before anyone else gets them: a partition the target moves away goes to `revoking` and the
 * member keeps its epoch until a heartbeat no longer lists it; only then does the member advance to
 * the target epoch and pick up new partitions, and only those no other member still holds. So at
 * every moment the members' assigned and revoking sets are disjoint.
 */
export function reconcile(member: MemberAssignment, ctx: ReconcileContext): MemberAssignment {
  const released = (set: PartitionSet) => ctx.reported !== undefined && !intersects(ctx.reported, set);

  let revoking = member.revoking;
  if (revoking.size > 0 && released(revoking)) revoking = new Set();
  const kept = intersection(member.assigned, ctx.target);
  const dropped = difference(member.assigned, ctx.target);

  if (revoking.size > 0 || (dropped.size > 0 && !released(dropped))) {
    // A newer target may drop more while a revocation is in flight: it joins the same revocation.
    return {
      memberEpoch: member.memberEpoch,
      previousMemberEpoch: member.previousMemberEpoch,
      state: "unrevoked",
      assigned: kept,
      revoking: new Set([...revoking, ...dropped]),
      // The clock runs from the first request to revoke, not from the latest addition to it.
      revocationDeadline:
        revoking.size > 0 && member.revocationDeadline !== null
          ? member.revocationDeadline
          : ctx.now + ctx.rebalanceTimeoutMs,
    };
  }

  const assigned = new Set(kept);
  for (const key of ctx.target) if (!ctx.ownedByOthers.has(key)) assigned.add(key);
  const epochChanged = member.memberEpoch !== ctx.targetEpoch;
  return {
    memberEpoch: ctx.targetEpoch,
    previousMemberEpoch: epochChanged ? member.memberEpoch : member.previousMemberEpoch,
    state: assigned.size === ctx.target.size ? "stable" : "unreleased",
    assigned,
    revoking: new Set(),
    revocationDeadline: null,
  };
}
