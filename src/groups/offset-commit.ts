import { ConditionFailedError, FloeError } from "../errors.js";
import type { WriteOp } from "../storage/ports.js";
import { isExpired } from "./expiry-sweeps.js";
import type { GroupContext } from "./group-context.js";
import { createEmptyGroup } from "./group-creation.js";
import { StaleMemberEpochError, unknownMember } from "./group-errors.js";
import { type GroupSnapshot, loadOwnItems, offsetToDoc } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { mapConcurrent } from "./map-concurrent.js";
import { commitMembershipChange, isLegacyMeta, settleGroup, sweepIfDue } from "./membership-change.js";
import { AGAIN, optimistically } from "./optimistic-retry.js";
import { tp, union } from "./partition-set.js";
import { validateCommit, validateGroupId } from "./request-validation.js";
import type { CommitRequest, CommittedOffset } from "./types.js";

/** Offsets per transaction: the rest of the 100-op limit guards it (a member check, or a group's creation). */
const OFFSETS_PER_WRITE = 96;

/**
 * Kafka's OffsetCommit for KIP-848 groups. A member commits with its current epoch, and only
 * partitions it owns (assigned or being revoked), so a zombie that lost a partition can never
 * overwrite its successor's progress; the write is conditional on the member item as read, so a
 * rebalance landing in between refuses it too. A standalone consumer (no member id) may commit only
 * while the group has no members, as Kafka's generation check refuses it otherwise.
 *
 * Offsets must lie in [0, high-water mark]. Kafka accepts any offset, but one past the end is
 * almost always a bug (an off-by-one, a wrong partition) that would otherwise surface much later as
 * a consumer silently skipping records once the log grows into it.
 *
 * A member's commit reads the meta item and its own item, not the group (decision 0012): commits
 * come about as often as heartbeats. See `readForCommit` for how that keeps the answers of a read
 * of the whole group.
 *
 * More than OFFSETS_PER_WRITE offsets are written in several transactions, each atomic on its own.
 */
export async function commitOffsets(
  ctx: GroupContext,
  groupId: string,
  request: CommitRequest,
): Promise<CommittedOffset[]> {
  validateGroupId(groupId);
  const offsets = validateCommit(request);
  const memberId = request.memberId;
  if (memberId === undefined && request.memberEpoch !== undefined && request.memberEpoch >= 0) {
    throw new FloeError(
      "UNKNOWN_MEMBER_ID",
      `A commit with member epoch ${request.memberEpoch} needs a memberId.`,
    );
  }
  // High-water marks only grow, so an offset within one now stays within it.
  const topicIds = await checkAgainstLog(ctx, offsets);

  for (let i = 0; i < offsets.length; i += OFFSETS_PER_WRITE) {
    const chunk = offsets.slice(i, i + OFFSETS_PER_WRITE);
    await optimistically(ctx.retry, async () => {
      const group = await readForCommit(ctx, groupId, memberId);
      if (group === undefined) return AGAIN;
      const { ops, incarnation } =
        memberId === undefined ? standaloneGuard(ctx, group) : memberGuard(group, memberId, request, chunk);
      const committedAt = ctx.clock();
      for (const o of chunk) {
        ops.push({
          type: "put",
          ...groupKeys.offset(groupId, o.topic, o.partition),
          data: offsetToDoc({ ...o, topicId: topicIds.get(o.topic)!, committedAt, incarnation }),
        });
      }
      await ctx.meta.transact(ops);
      return { done: undefined };
    });
  }
  return offsets;
}

/**
 * What a commit decides on, read as narrowly as still gives the answer a settled read of the whole
 * group would (expired members removed first):
 * - a member's commit depends only on its own item (epoch, holdings, liveness) and the group's
 *   incarnation. Others' expiry is left to this process's sweep schedule, as for heartbeats; when a
 *   sweep is due the group is read whole and settled here, as before. A lapsed committer is removed
 *   now (a new epoch) and then, like any unknown member, refused.
 * - a commit without a member id needs to know the group has no live member. A meta item listing no
 *   member says so from one item; one listing members is read whole and settled, so members that
 *   lapsed are removed and the commit is accepted, as before (and the refusal counts them).
 * A meta item written before shards existed is always read whole, as before (the next heartbeat
 * upgrades it). Undefined when it wrote such a removal: read again.
 */
async function readForCommit(
  ctx: GroupContext,
  groupId: string,
  memberId: string | undefined,
): Promise<GroupSnapshot | undefined> {
  if (memberId === undefined) {
    const head = await loadOwnItems(ctx.meta, groupId, undefined, ctx.metas);
    // Shard items exist exactly while the group has members (each member's subscription is on one).
    if (!head.meta || head.meta.shards?.size === 0) return head;
    return settleGroup(ctx, groupId);
  }
  const swept = await sweepIfDue(ctx, groupId);
  if (swept) return swept;
  const view = await loadOwnItems(ctx.meta, groupId, memberId, ctx.metas);
  if (view.meta && isLegacyMeta(view.meta)) return settleGroup(ctx, groupId);
  const member = view.members.get(memberId);
  if (!member) return view;
  // Read beside a deletion of the group that removed it since: read again.
  if (!view.meta) throw new ConditionFailedError(`Group '${groupId}' changed while it was read.`);
  if (isExpired(member, ctx.clock(), ctx.sessionTimeoutMs)) {
    await commitMembershipChange(ctx, view, { remove: [member] });
    return undefined;
  }
  return view;
}

/** The writes that make a commit conditional on its right to commit, and the group incarnation it belongs to. */
interface Guard {
  ops: WriteOp[];
  incarnation: string;
}

function memberGuard(
  group: GroupSnapshot,
  memberId: string,
  request: CommitRequest,
  chunk: CommittedOffset[],
): Guard {
  const member = group.members.get(memberId);
  if (!member) throw unknownMember(group.groupId, memberId);
  if (request.memberEpoch !== member.memberEpoch) {
    throw new StaleMemberEpochError(
      `Member ${memberId} of group '${group.groupId}' committed with epoch ${request.memberEpoch ?? "none"}, but its epoch is ${member.memberEpoch}; heartbeat, then commit with the new epoch.`,
      member.protocol,
    );
  }
  const owned = union(member.assigned, member.revoking);
  for (const o of chunk) {
    if (!owned.has(tp(o.topic, o.partition))) {
      throw new StaleMemberEpochError(
        `Partition ${o.partition} of topic '${o.topic}' is not assigned to member ${memberId} at epoch ${member.memberEpoch}.`,
        member.protocol,
      );
    }
  }
  return {
    ops: [
      { type: "check", ...groupKeys.member(group.groupId, memberId), condition: { version: member.version } },
    ],
    // A group with members always has its meta item.
    incarnation: group.meta!.incarnation,
  };
}

function standaloneGuard(ctx: GroupContext, group: GroupSnapshot): Guard {
  if (group.members.size > 0) {
    throw new FloeError(
      "UNKNOWN_MEMBER_ID",
      `Group '${group.groupId}' has ${group.members.size} active member(s); a commit without a member id is only accepted while it has none.`,
    );
  }
  // A join bumps the meta version, so this check keeps a standalone commit from racing one.
  if (group.meta) {
    return {
      ops: [{ type: "check", ...groupKeys.meta(group.groupId), condition: { version: group.meta.version } }],
      incarnation: group.meta.incarnation,
    };
  }
  const created = createEmptyGroup(ctx, group);
  return { ops: created.ops, incarnation: created.meta.incarnation };
}

async function checkAgainstLog(ctx: GroupContext, offsets: CommittedOffset[]): Promise<Map<string, string>> {
  const highWatermarks = await mapConcurrent(offsets, 16, (o) =>
    ctx.broker.listOffsets(o.topic, o.partition, "latest"),
  );
  offsets.forEach((o, i) => {
    const hwm = highWatermarks[i].offset;
    if (o.offset > hwm) {
      throw new FloeError(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${o.offset} for partition ${o.partition} of topic '${o.topic}' is past its high-water mark ${hwm}.`,
      );
    }
  });
  const topics = [...new Set(offsets.map((o) => o.topic))];
  const found = await Promise.all(topics.map((t) => ctx.broker.topics.cached(t)));
  return new Map(found.map((t) => [t.name, t.topicId]));
}
