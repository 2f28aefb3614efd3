import { FloeError } from "../errors.js";
import type { GroupContext } from "./group-context.js";
import { unknownMember } from "./group-errors.js";
import { type MemberRecord, memberToDoc } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { commitMembershipChange, settleGroup } from "./membership-change.js";
import { AGAIN, optimistically } from "./optimistic-retry.js";
import { difference, type PartitionSet, toPartitionSet, toTopicPartitions, union } from "./partition-set.js";
import { reconcile } from "./reconcile.js";
import { validateGroupId, validateHeartbeat } from "./request-validation.js";
import { resolveSubscriptions, sameTopics } from "./subscription.js";
import {
  type HeartbeatRequest,
  type HeartbeatResponse,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
} from "./types.js";

/**
 * KIP-848's ConsumerGroupHeartbeat: join, stay, change subscription, converge, leave — one call.
 *
 * Each pass reads the group, expires lapsed members, and then either writes a new group epoch (a
 * join, a leave, a subscription or topic-metadata change) and runs again, or moves this member one
 * step towards its target and answers. The member's own item is the only one a plain heartbeat
 * writes, conditional on its version and on the meta version it reconciled against, so heartbeats
 * of different members do not contend except around an epoch bump.
 */
export async function heartbeat(
  ctx: GroupContext,
  groupId: string,
  request: HeartbeatRequest,
): Promise<HeartbeatResponse> {
  validateGroupId(groupId);
  validateHeartbeat(request);
  // Generated once, so a pass that runs again after the join's own write finds the same member.
  const memberId = request.memberId ?? ctx.newId();
  const reported =
    request.ownedPartitions === undefined ? undefined : toPartitionSet(request.ownedPartitions);

  return optimistically(ctx.retry, async () => {
    const group = await settleGroup(ctx, groupId);
    const now = ctx.clock();
    const existing = group.members.get(memberId);

    if (request.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (!existing) throw unknownMember(groupId, memberId);
      // The member committed and stopped before leaving, so its partitions are free at once.
      await commitMembershipChange(ctx, group, { remove: [existing] });
      return {
        done: {
          memberId,
          memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
          heartbeatIntervalMs: ctx.heartbeatIntervalMs,
          assignment: [],
        },
      };
    }

    let member: MemberRecord;
    if (request.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
      member = joining(ctx, memberId, existing, request, now);
    } else {
      if (!existing) throw unknownMember(groupId, memberId);
      checkMemberEpoch(groupId, existing, request.memberEpoch, reported);
      member = heartbeating(existing, request, now);
    }

    const members = new Map(group.members).set(memberId, member);
    let resolved = await resolveSubscriptions(ctx.broker, members.values());
    if (group.meta && !sameTopics(group.meta.topics, resolved.topics)) {
      // Another instance may have bumped the epoch on metadata newer than our cache: confirm with a
      // fresh read, or two instances would flip the group between their two views until caches expire.
      resolved = await resolveSubscriptions(ctx.broker, members.values(), { fresh: true });
    }
    if (
      !group.meta ||
      !existing ||
      !sameSubscription(existing, member) ||
      !sameTopics(group.meta.topics, resolved.topics)
    ) {
      await commitMembershipChange(ctx, group, { upsert: member, resolved });
      return AGAIN;
    }

    const meta = group.meta;
    const others: PartitionSet[] = [];
    for (const m of group.members.values()) if (m.memberId !== memberId) others.push(m.assigned, m.revoking);
    const next: MemberRecord = {
      ...member,
      ...reconcile(member, {
        target: meta.target.get(memberId) ?? new Set(),
        targetEpoch: meta.assignmentEpoch,
        ownedByOthers: union(...others),
        reported,
        now,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
      }),
    };
    await ctx.meta.transact([
      {
        type: "put",
        ...groupKeys.member(groupId, memberId),
        data: memberToDoc(next),
        condition: { version: existing.version },
      },
      { type: "check", ...groupKeys.meta(groupId), condition: { version: meta.version } },
    ]);
    return {
      done: {
        memberId,
        memberEpoch: next.memberEpoch,
        heartbeatIntervalMs: ctx.heartbeatIntervalMs,
        assignment: toTopicPartitions(next.assigned),
      },
    };
  });
}

/**
 * A join, or a rejoin after being fenced: the member declares it holds nothing (KIP-848 has it give
 * everything up before rejoining), so whatever it held is free for its new target.
 */
function joining(
  ctx: GroupContext,
  memberId: string,
  existing: MemberRecord | undefined,
  request: HeartbeatRequest,
  now: number,
): MemberRecord {
  return {
    memberId,
    clientId: request.clientId ?? existing?.clientId ?? null,
    subscribedTopics: request.subscribedTopics ?? [],
    subscribedTopicRegex: request.subscribedTopicRegex || null,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? existing?.rebalanceTimeoutMs ?? ctx.rebalanceTimeoutMs,
    lastHeartbeatMs: now,
    memberEpoch: JOIN_GROUP_MEMBER_EPOCH,
    previousMemberEpoch: JOIN_GROUP_MEMBER_EPOCH,
    state: "stable",
    assigned: new Set(),
    revoking: new Set(),
    revocationDeadline: null,
    version: existing?.version ?? 0,
  };
}

/** Absent subscription fields keep what the member had, as in ConsumerGroupHeartbeat. */
function heartbeating(existing: MemberRecord, request: HeartbeatRequest, now: number): MemberRecord {
  return {
    ...existing,
    clientId: request.clientId ?? existing.clientId,
    subscribedTopics: request.subscribedTopics ?? existing.subscribedTopics,
    subscribedTopicRegex:
      request.subscribedTopicRegex === undefined
        ? existing.subscribedTopicRegex
        : request.subscribedTopicRegex || null,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? existing.rebalanceTimeoutMs,
    lastHeartbeatMs: now,
  };
}

/**
 * KIP-848's epoch check. The previous epoch is still accepted when the member owns nothing beyond
 * its current assignment: its last response was lost, and answering again is safe.
 */
function checkMemberEpoch(
  groupId: string,
  member: MemberRecord,
  received: number,
  reported: PartitionSet | undefined,
): void {
  if (received === member.memberEpoch) return;
  if (
    received === member.previousMemberEpoch &&
    received < member.memberEpoch &&
    reported !== undefined &&
    difference(reported, member.assigned).size === 0
  ) {
    return;
  }
  throw new FloeError(
    "FENCED_MEMBER_EPOCH",
    `Member ${member.memberId} of group '${groupId}' sent epoch ${received}, but its epoch is ${member.memberEpoch}; it must give up its partitions and rejoin with epoch 0.`,
  );
}

function sameSubscription(a: MemberRecord, b: MemberRecord): boolean {
  return (
    a.subscribedTopicRegex === b.subscribedTopicRegex &&
    a.subscribedTopics.length === b.subscribedTopics.length &&
    [...a.subscribedTopics].sort().join("\n") === [...b.subscribedTopics].sort().join("\n")
  );
}
