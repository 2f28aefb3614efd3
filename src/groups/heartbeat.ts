import { FloeError } from "../errors.js";
import type { GroupContext } from "./group-context.js";
import { unknownMember } from "./group-errors.js";
import { isExpired } from "./expiry-sweeps.js";
import {
  type GroupMeta,
  type GroupSnapshot,
  loadGroup,
  loadMember,
  loadMemberView,
  type MemberRecord,
  memberToDoc,
} from "./group-records.js";
import { groupKeys } from "./keys.js";
import { mapConcurrent } from "./map-concurrent.js";
import { commitMembershipChange, isLegacyMeta, sweepIfDue } from "./membership-change.js";
import { AGAIN, optimistically } from "./optimistic-retry.js";
import {
  difference,
  intersects,
  type PartitionSet,
  toPartitionSet,
  toTopicPartitions,
  union,
} from "./partition-set.js";
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
 * Each pass reads the meta item and this member's own item (the whole group only when this
 * process's expiry sweep is due, decision 0012), and then either writes a new group epoch (a join,
 * a leave, an expiry, a subscription or topic-metadata change) and runs again, or moves this member
 * one step towards its target and answers. To acquire partitions it also reads the few members the
 * meta item names as possibly still holding them. The member's own item is the only one a plain
 * heartbeat writes, conditional on its version and on the meta version it reconciled against, so
 * heartbeats of different members do not contend except around an epoch bump.
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
    let group =
      (await sweepIfDue(ctx, groupId)) ?? (await loadMemberView(ctx.meta, groupId, memberId, ctx.metas));
    if (group.meta && isLegacyMeta(group.meta)) {
      // Written before meta carried subscriptions and holders: one bump from the whole group
      // records them, after which every heartbeat reads only its own item.
      if (!group.complete) group = await loadGroup(ctx.meta, groupId, ctx.metas);
      await commitMembershipChange(ctx, group, {});
      return AGAIN;
    }
    const now = ctx.clock();
    const existing = group.members.get(memberId);
    if (existing && isExpired(existing, now, ctx.sessionTimeoutMs)) {
      // Its session lapsed (or its revocation overran) before anyone swept it: it goes now, and the
      // request is answered as for any unknown member (or joins anew).
      await commitMembershipChange(ctx, group, { remove: [existing] });
      return AGAIN;
    }

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
    // Whether this heartbeat's ownedPartitions may complete a revocation: only at the member's
    // current epoch (decision 0005). Any other accepted heartbeat may be a late copy of an earlier
    // one, so it is answered with the member's state and releases nothing.
    let current = false;
    if (request.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
      if (!existing || existing.memberEpoch !== JOIN_GROUP_MEMBER_EPOCH) {
        // A join, or a rejoin (which may be a late duplicate of the member's first join, its client
        // still consuming): a new group epoch, so the epoch the member gets next is one it never had.
        await commitMembershipChange(ctx, group, { upsert: joining(ctx, memberId, existing, request, now) });
        return AGAIN;
      }
      // The (re)join is recorded; what is left is the reconcile below, as for any heartbeat.
      member = heartbeating(existing, request, now);
    } else {
      if (!existing) throw unknownMember(groupId, memberId);
      current = checkMemberEpoch(groupId, existing, request.memberEpoch, reported);
      member = heartbeating(existing, request, now);
    }

    if (!group.meta || !existing || !sameSubscription(existing, member)) {
      await commitMembershipChange(ctx, group, { upsert: member });
      return AGAIN;
    }
    const meta = group.meta;
    if (await subscribedTopicsChanged(ctx, meta)) {
      await commitMembershipChange(ctx, group, { upsert: member });
      return AGAIN;
    }

    const target = meta.target.get(memberId) ?? new Set<string>();
    const others = await holdersOf(ctx, group, memberId, difference(target, member.assigned));
    const lapsed = others.filter((m) => isExpired(m, now, ctx.sessionTimeoutMs));
    if (lapsed.length > 0) {
      // A member this one waits for has overrun its session or its revocation: free its partitions.
      await commitMembershipChange(ctx, group, { remove: lapsed });
      return AGAIN;
    }
    const next: MemberRecord = {
      ...member,
      ...reconcile(member, {
        target,
        targetEpoch: meta.assignmentEpoch,
        ownedByOthers: union(...others.flatMap((m) => [m.assigned, m.revoking])),
        reported: current ? reported : undefined,
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
    if (next.revocationDeadline !== null) ctx.sweeps.deadline(groupId, next.revocationDeadline);
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
 * The items of the other members that may hold any of `wanted` (partitions of this member's target
 * it does not have yet), as the meta item's `releasing` record names them: after the bump that
 * wrote it, nobody else can come to hold one of them, and the named members can only let go, so a
 * read after the meta item's that finds one released stays true for as long as the write this
 * heartbeat makes is conditional on that meta version (decision 0012). Bounded by what this
 * member acquires, not by the group. A group read whole answers from what it read.
 */
async function holdersOf(
  ctx: GroupContext,
  group: GroupSnapshot,
  memberId: string,
  wanted: PartitionSet,
): Promise<MemberRecord[]> {
  if (wanted.size === 0 || !group.meta?.releasing) return [];
  const named: string[] = [];
  for (const [id, partitions] of group.meta.releasing) {
    if (id !== memberId && intersects(partitions, wanted)) named.push(id);
  }
  const read = group.complete
    ? named.map((id) => group.members.get(id))
    : await mapConcurrent(named, 16, (id) => loadMember(ctx.meta, group.groupId, id));
  return read.filter((m): m is MemberRecord => m !== undefined);
}

/**
 * Whether the topics the group's subscriptions cover differ from those its epoch was computed on
 * (a matching topic created or deleted, a partition count changed). Resolved once per distinct
 * subscription on the meta item, not per member, from the broker's topic cache; a difference is
 * confirmed with a fresh read, or two instances with caches of different ages would flip the group
 * between their two views until the caches expire.
 */
async function subscribedTopicsChanged(ctx: GroupContext, meta: GroupMeta): Promise<boolean> {
  const subscribers = meta.distinct.map((s, i) => ({
    memberId: String(i),
    subscribedTopics: s.subscribedTopics,
    subscribedTopicRegex: s.subscribedTopicRegex,
  }));
  const cached = await resolveSubscriptions(ctx.broker, subscribers);
  if (sameTopics(meta.topics, cached.topics)) return false;
  const fresh = await resolveSubscriptions(ctx.broker, subscribers, { fresh: true });
  return !sameTopics(meta.topics, fresh.topics);
}

/**
 * A join, or a rejoin after being fenced. The client says it holds nothing, but the request may be
 * a late copy of an earlier join while the client consumes what it was given since: so what the
 * member held stays its own, as being revoked, until a heartbeat at the epoch it gets next reports
 * it released (or it expires). Epoch 0 marks the rejoin for reconcile, which then moves the member
 * to the target epoch; the epoch it had becomes its previous one, so its client's heartbeats from
 * before the rejoin are answered (with "give everything up") rather than fenced.
 */
function joining(
  ctx: GroupContext,
  memberId: string,
  existing: MemberRecord | undefined,
  request: HeartbeatRequest,
  now: number,
): MemberRecord {
  const held = existing ? union(existing.assigned, existing.revoking) : new Set<string>();
  const rebalanceTimeoutMs =
    request.rebalanceTimeoutMs ?? existing?.rebalanceTimeoutMs ?? ctx.rebalanceTimeoutMs;
  return {
    memberId,
    clientId: request.clientId ?? existing?.clientId ?? null,
    subscribedTopics: request.subscribedTopics ?? [],
    subscribedTopicRegex: request.subscribedTopicRegex || null,
    rebalanceTimeoutMs,
    lastHeartbeatMs: now,
    memberEpoch: JOIN_GROUP_MEMBER_EPOCH,
    previousMemberEpoch: existing?.memberEpoch ?? JOIN_GROUP_MEMBER_EPOCH,
    state: held.size > 0 ? "unrevoked" : "stable",
    assigned: new Set(),
    revoking: held,
    revocationDeadline: held.size > 0 ? (existing?.revocationDeadline ?? now + rebalanceTimeoutMs) : null,
    grown: false,
    protocol: request.protocol ?? "consumer",
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
    // Unlike the subscription, absent is not "unchanged": each request says which protocol it is.
    protocol: request.protocol ?? "consumer",
  };
}

/**
 * KIP-848's epoch check; true when the heartbeat carries the member's current epoch, the only one
 * whose ownedPartitions may complete a revocation. The previous epoch is still accepted, as KIP-848
 * does for a lost response, when the member claims nothing beyond what it is assigned or being
 * revoked; it is answered with the current state and releases nothing (decision 0005). Anything
 * else is fenced, and a fence writes nothing, so a late copy of any old heartbeat changes nothing.
 */
function checkMemberEpoch(
  groupId: string,
  member: MemberRecord,
  received: number,
  reported: PartitionSet | undefined,
): boolean {
  if (received === member.memberEpoch) return true;
  if (
    received === member.previousMemberEpoch &&
    received !== JOIN_GROUP_MEMBER_EPOCH &&
    reported !== undefined &&
    difference(reported, union(member.assigned, member.revoking)).size === 0
  ) {
    return false;
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
