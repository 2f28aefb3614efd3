import { difference, intersection, intersects, type PartitionSet, union } from "./partition-set.js";

/** KIP-848's MemberState, as far as dynamic members need it. */
export type MemberState = "stable" | "unrevoked" | "unreleased";

/** A member's epoch before its first answer, and again between a rejoin and the reconcile after it. */
const JOINING_EPOCH = 0;

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
  /**
   * The member was given partitions after the answer that started its current epoch (KIP-848's
   * unreleased partitions arriving one by one). A heartbeat at this epoch may then have been sent
   * before such a partition arrived, so its ownedPartitions proves nothing about it.
   */
  grown: boolean;
}

export interface ReconcileContext {
  target: PartitionSet;
  targetEpoch: number;
  /** Every other member's assigned and revoking partitions. */
  ownedByOthers: PartitionSet;
  /**
   * The member's ownedPartitions, only from a heartbeat carrying its current epoch (decision 0005:
   * any other heartbeat may be a late copy); undefined when it did not say or cannot be trusted.
   */
  reported: PartitionSet | undefined;
  now: number;
  rebalanceTimeoutMs: number;
}

/**
 * One step of a member towards its target (KIP-848's CurrentAssignmentBuilder). Partitions leave a
 * member before anyone else gets them: a partition the target moves away goes to `revoking` and
 * stays there until a heartbeat at the member's current epoch no longer lists it; only then does
 * the member advance to the target epoch and pick up new partitions, and only those no other
 * member still holds. So at every moment the members' assigned and revoking sets are disjoint.
 *
 * Which report may complete a revocation (decision 0005, "Why a partition never has two owners"):
 * a heartbeat carrying epoch E was sent after the member acted on the answer that started E. If
 * everything the member holds at E came in that answer, a current-epoch report that omits one of
 * those partitions means the member really let it go, and the member keeps its epoch while
 * revoking, as in KIP-848. If the member was given more during E (`grown`), or rejoined (epoch 0
 * here), an E report may predate a partition's arrival; the revocation then moves the member to the
 * target epoch at once, so that only heartbeats sent after this very answer can complete it.
 */
export function reconcile(member: MemberAssignment, ctx: ReconcileContext): MemberAssignment {
  const released = (set: PartitionSet) => ctx.reported !== undefined && !intersects(ctx.reported, set);
  const rejoined = member.memberEpoch === JOINING_EPOCH;

  let revoking = member.revoking;
  if (revoking.size > 0 && released(revoking)) revoking = new Set();
  const kept = intersection(member.assigned, ctx.target);
  const dropped = difference(member.assigned, ctx.target);
  // A new epoch for the member is needed when its current one cannot tell old reports from new.
  const fresh = rejoined || (dropped.size > 0 && member.grown);

  if (revoking.size > 0 || (dropped.size > 0 && (fresh || !released(dropped)))) {
    // A newer target may drop more while a revocation is in flight: it joins the same revocation.
    return {
      memberEpoch: fresh ? ctx.targetEpoch : member.memberEpoch,
      // A rejoined member keeps the epoch it had as its previous one, so its client's heartbeat
      // from before a (duplicated) rejoin is answered with this state instead of being fenced.
      previousMemberEpoch: fresh && !rejoined ? member.memberEpoch : member.previousMemberEpoch,
      state: "unrevoked",
      assigned: kept,
      revoking: union(revoking, dropped),
      // The clock runs from the first request to revoke, not from the latest addition to it.
      revocationDeadline:
        revoking.size > 0 && member.revocationDeadline !== null
          ? member.revocationDeadline
          : ctx.now + ctx.rebalanceTimeoutMs,
      grown: fresh ? false : member.grown,
    };
  }

  const assigned = new Set(kept);
  for (const key of ctx.target) if (!ctx.ownedByOthers.has(key)) assigned.add(key);
  const epochChanged = member.memberEpoch !== ctx.targetEpoch;
  return {
    memberEpoch: ctx.targetEpoch,
    previousMemberEpoch: epochChanged && !rejoined ? member.memberEpoch : member.previousMemberEpoch,
    state: assigned.size === ctx.target.size ? "stable" : "unreleased",
    assigned,
    revoking: new Set(),
    revocationDeadline: null,
    // This answer starts the epoch when the epoch changes; otherwise anything new arrives late.
    grown: epochChanged ? false : member.grown || difference(assigned, member.assigned).size > 0,
  };
}
