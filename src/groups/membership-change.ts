import type { WriteOp } from "../storage/ports.js";
import { isExpired } from "./expiry-sweeps.js";
import type { GroupContext } from "./group-context.js";
import { nextGroupEpoch } from "./group-epoch.js";
import {
  completeMeta,
  distinctSubscriptions,
  type GroupMeta,
  type GroupSnapshot,
  loadGroup,
  loadMember,
  type MemberRecord,
  type MemberSubscription,
  memberToDoc,
  metaToDoc,
  shardWrites,
} from "./group-records.js";
import { groupKeys } from "./keys.js";
import { mapConcurrent } from "./map-concurrent.js";
import type { PartitionSet } from "./partition-set.js";
import { type ResolvedSubscriptions, resolveSubscriptions } from "./subscription.js";

/**
 * Removals per transaction: the rest of the 100-op limit is the meta item, the target shards
 * (TARGET_SHARDS at most), the directory and one member.
 */
const MAX_REMOVALS_PER_WRITE = 60;

export interface MembershipChange {
  /** Members written as given (a join, a new subscription); their ownership is never widened here. */
  upsert?: MemberRecord;
  /** Members removed, as read (their items are deleted conditional on the versions read). */
  remove?: MemberRecord[];
  /** Already resolved for exactly the resulting members and no older than the group's, to spare a second resolution. */
  resolved?: ResolvedSubscriptions;
}

/**
 * Writes a new group epoch and its target together with the member items the change touches, all
 * conditional on the versions read: two concurrent changes cannot both land, the loser re-reads.
 * It never hands out partitions: that happens only in a member's own reconcile write, against the
 * meta version this write creates.
 *
 * The group need not be read whole: the subscriptions the assignor needs are on the meta item, and
 * who may still hold a partition that moves is derived from the previous record of it (decision
 * 0012). Only a meta item written before those fields existed needs every member item (`complete`).
 */
export async function commitMembershipChange(
  ctx: GroupContext,
  view: GroupSnapshot,
  change: MembershipChange,
): Promise<void> {
  // A heartbeat read only its own shard; a bump needs them all (read after meta, as the view's was).
  const group = view.meta?.partial ? { ...view, meta: await completeMeta(ctx.meta, view.meta) } : view;
  const removed = new Set((change.remove ?? []).map((m) => m.memberId));
  const subscriptions = subscriptionsOf(group);
  for (const id of removed) subscriptions.delete(id);
  if (change.upsert) {
    const { memberId, subscribedTopics, subscribedTopicRegex } = change.upsert;
    subscriptions.set(memberId, { subscribedTopics, subscribedTopicRegex });
  }
  const subscribers = [...subscriptions.keys()].map((memberId) => ({ memberId }));
  // Fresh, not cached: a new epoch must not be computed from metadata older than the last one's.
  // resolveSubscriptions resolves each distinct subscription once, however many members share it.
  const resolved =
    change.resolved ??
    (await resolveSubscriptions(
      ctx.broker,
      [...subscriptions].map(([memberId, s]) => ({ memberId, ...s })),
      { fresh: true },
    ));
  const now = ctx.clock();
  const next = nextGroupEpoch(group.groupId, group.meta, subscribers, resolved, ctx.assignor, now, ctx.newId);
  const releasing = await stillReleasing(ctx, group, next.target, removed, change.upsert?.memberId);
  // Every put grows an item's version by one, so this is the version the meta put below creates.
  const newVersion = (group.metaVersion ?? 0) + 1;
  const written = shardWrites(group.groupId, { target: next.target, subscriptions }, group.meta, newVersion);
  const ops: WriteOp[] = [
    {
      type: "put",
      ...groupKeys.meta(group.groupId),
      data: metaToDoc({
        ...next,
        subscriptions,
        distinct: distinctSubscriptions(subscriptions),
        releasing,
        shards: written.shards,
        partial: false,
      }),
      condition: group.metaVersion === undefined ? { absent: true } : { version: group.metaVersion },
    },
    ...written.ops,
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

/** Whether the meta item predates the fields that let a heartbeat read only its own member item. */
export function isLegacyMeta(meta: GroupMeta): boolean {
  return meta.shards === undefined || meta.releasing === undefined;
}

function subscriptionsOf(group: GroupSnapshot): Map<string, MemberSubscription> {
  if (group.meta?.subscriptions && group.meta.shards) return new Map(group.meta.subscriptions);
  if (group.meta && !group.complete) {
    throw new Error(
      `internal: group '${group.groupId}' predates subscriptions on meta and was not read whole`,
    );
  }
  const out = new Map<string, MemberSubscription>();
  for (const m of group.members.values()) {
    out.set(m.memberId, {
      subscribedTopics: m.subscribedTopics,
      subscribedTopicRegex: m.subscribedTopicRegex,
    });
  }
  return out;
}

/**
 * Who may still hold each partition once the new target is written, other than the member it now
 * goes to (decision 0012). Until this write lands, a partition p can be held by the members the
 * previous record named for it, or acquired by the previous target's owner of p (which may still
 * do so under the previous meta version, after anything read here): nobody else, because only a
 * member's own write conditional on the current meta version acquires anything, and only what that
 * target gives it, and bumps never widen a member's holdings. A named member whose item, read after
 * the meta item, no longer lists p has let it go for good (it cannot get p back under the previous
 * target, and this write is conditional on that target's version), so it is dropped here; that
 * keeps the record to partitions in flight. Removed members hold nothing once this write lands.
 */
async function stillReleasing(
  ctx: GroupContext,
  group: GroupSnapshot,
  target: Map<string, Set<string>>,
  removed: ReadonlySet<string>,
  upserted: string | undefined,
): Promise<Map<string, PartitionSet>> {
  const previous = group.meta;
  const holders = new Map<string, Set<string>>();
  const add = (partition: string, memberId: string) => {
    let set = holders.get(partition);
    if (!set) holders.set(partition, (set = new Set()));
    set.add(memberId);
  };
  const holds = (m: MemberRecord, partition: string) =>
    m.assigned.has(partition) || m.revoking.has(partition);

  if (group.complete) {
    for (const m of group.members.values()) {
      if (removed.has(m.memberId)) continue;
      for (const p of m.assigned) add(p, m.memberId);
      for (const p of m.revoking) add(p, m.memberId);
    }
  } else if (previous?.releasing) {
    const named = [...previous.releasing.keys()].filter((id) => !removed.has(id));
    // The upserted member's item is written conditional on the version read, so that read stands;
    // any other is read again, after the meta item (a heartbeat reads its own item beside it).
    const unread = named.filter((id) => id !== upserted || !group.members.has(id));
    const read = await mapConcurrent(unread, 16, (id) => loadMember(ctx.meta, group.groupId, id));
    const items = new Map<string, MemberRecord>();
    if (upserted !== undefined && group.members.has(upserted))
      items.set(upserted, group.members.get(upserted)!);
    unread.forEach((id, i) => {
      const item = read[i];
      if (item) items.set(id, item);
    });
    for (const id of named) {
      const item = items.get(id);
      if (!item) continue;
      for (const p of previous.releasing.get(id)!) if (holds(item, p)) add(p, id);
    }
  }
  if (previous) {
    for (const [owner, partitions] of previous.target) {
      if (removed.has(owner)) continue;
      for (const p of partitions) add(p, owner);
    }
  }

  const owners = new Map<string, string>();
  for (const [owner, partitions] of target) for (const p of partitions) owners.set(p, owner);
  const releasing = new Map<string, Set<string>>();
  for (const [p, ids] of holders) {
    for (const id of ids) {
      if (owners.get(p) === id) continue;
      let set = releasing.get(id);
      if (!set) releasing.set(id, (set = new Set()));
      set.add(p);
    }
  }
  return releasing;
}

/**
 * Members whose session lapsed (no heartbeat within the session timeout) or who held on to revoked
 * partitions past their rebalance timeout. Kafka runs timers for both; here the operation that
 * reads the member item notices, which with the injected clock is deterministic.
 */
export function expiredMembers(group: GroupSnapshot, now: number, sessionTimeoutMs: number): MemberRecord[] {
  return [...group.members.values()].filter((m) => isExpired(m, now, sessionTimeoutMs));
}

/**
 * Loads the whole group and removes expired members first (each removal a new epoch), so every
 * operation decides on live members only and an expired member's partitions are free for the
 * others. For operations whose answer is about every member (describe, list, delete, reset) or
 * that have not moved to a bounded read yet; a heartbeat uses `sweepIfDue`.
 * Throws ConditionFailedError when a removal loses a race; callers run it under `optimistically`.
 */
export async function settleGroup(ctx: GroupContext, groupId: string): Promise<GroupSnapshot> {
  for (;;) {
    const group = await loadGroup(ctx.meta, groupId, ctx.metas);
    const now = ctx.clock();
    const expired = expiredMembers(group, now, ctx.sessionTimeoutMs);
    if (expired.length === 0 || !group.meta) {
      ctx.sweeps.swept(groupId, group.members.values(), now);
      return group;
    }
    await commitMembershipChange(ctx, group, { remove: expired.slice(0, MAX_REMOVALS_PER_WRITE) });
  }
}

/**
 * The heartbeat's share of expiry (decision 0012): when this process's schedule says a member of
 * the group may have lapsed since it last looked, read the whole group and remove whoever did.
 * Returns the settled group when it read it, undefined when no sweep was due.
 */
export async function sweepIfDue(ctx: GroupContext, groupId: string): Promise<GroupSnapshot | undefined> {
  if (!ctx.sweeps.isDue(groupId, ctx.clock())) return undefined;
  return settleGroup(ctx, groupId);
}
