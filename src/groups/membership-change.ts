import type { WriteOp } from "../storage/ports.js";
import type { GroupContext } from "./group-context.js";
import { nextGroupEpoch } from "./group-epoch.js";
import { type GroupSnapshot, loadGroup, type MemberRecord, memberToDoc, metaToDoc } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { type ResolvedSubscriptions, resolveSubscriptions } from "./subscription.js";

/** Removals per transaction: the rest of the 100-op limit is the meta item, the directory and one member. */
const MAX_REMOVALS_PER_WRITE = 90;

export interface MembershipChange {
  /** Members written as given (a join, a new subscription); their ownership is never widened here. */
  upsert?: MemberRecord;
  remove?: MemberRecord[];
  /** Already resolved for exactly the resulting members and no older than the group's, to spare a second resolution. */
  resolved?: ResolvedSubscriptions;
}

/**
 * Writes a new group epoch and its target together with the member items the change touches, all
 * conditional on the versions read: two concurrent changes cannot both land, the loser re-reads.
 * It never hands out partitions: that happens only in a member's own reconcile write, against the
 * meta version this write creates.
 */
export async function commitMembershipChange(
  ctx: GroupContext,
  group: GroupSnapshot,
  change: MembershipChange,
): Promise<void> {
  const members = new Map(group.members);
  for (const m of change.remove ?? []) members.delete(m.memberId);
  if (change.upsert) members.set(change.upsert.memberId, change.upsert);
  // Fresh, not cached: a new epoch must not be computed from metadata older than the last one's.
  const resolved =
    change.resolved ?? (await resolveSubscriptions(ctx.broker, members.values(), { fresh: true }));
  const now = ctx.clock();
  const meta = nextGroupEpoch(
    group.groupId,
    group.meta,
    members.values(),
    resolved,
    ctx.assignor,
    now,
    ctx.newId,
  );
  const ops: WriteOp[] = [
    {
      type: "put",
      ...groupKeys.meta(group.groupId),
      data: metaToDoc(meta),
      condition: group.metaVersion === undefined ? { absent: true } : { version: group.metaVersion },
    },
  ];
  if (!group.meta) {
    ops.push({
      type: "put",
      ...groupKeys.directoryEntry(group.groupId),
      data: { createdAt: now },
      condition: { absent: true },
    });
  }
  if (change.upsert) {
    const previous = group.members.get(change.upsert.memberId);
    ops.push({
      type: "put",
      ...groupKeys.member(group.groupId, change.upsert.memberId),
      data: memberToDoc(change.upsert),
      condition: previous ? { version: previous.version } : { absent: true },
    });
  }
  for (const m of change.remove ?? []) {
    ops.push({
      type: "delete",
      ...groupKeys.member(group.groupId, m.memberId),
      condition: { version: m.version },
    });
  }
  await ctx.meta.transact(ops);
}

/**
 * Members whose session lapsed (no heartbeat within the session timeout) or who held on to revoked
 * partitions past their rebalance timeout. Kafka runs timers for both; here the next operation on
 * the group notices, which with the injected clock is deterministic.
 */
export function expiredMembers(group: GroupSnapshot, now: number, sessionTimeoutMs: number): MemberRecord[] {
  return [...group.members.values()].filter(
    (m) =>
      now - m.lastHeartbeatMs > sessionTimeoutMs ||
      (m.state === "unrevoked" && m.revocationDeadline !== null && now > m.revocationDeadline),
  );
}

/**
 * Loads the group and removes expired members first (each removal a new epoch), so every operation
 * decides on live members only and an expired member's partitions are free for the others.
 * Throws ConditionFailedError when a removal loses a race; callers run it under `optimistically`.
 */
export async function settleGroup(ctx: GroupContext, groupId: string): Promise<GroupSnapshot> {
  for (;;) {
    const group = await loadGroup(ctx.meta, groupId);
    const expired = expiredMembers(group, ctx.clock(), ctx.sessionTimeoutMs);
    if (expired.length === 0 || !group.meta) return group;
    await commitMembershipChange(ctx, group, { remove: expired.slice(0, MAX_REMOVALS_PER_WRITE) });
  }
}
