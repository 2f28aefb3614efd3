import type { Assignor } from "./assignor.js";
import type { GroupMeta, GroupSnapshot } from "./group-records.js";
import type { ResolvedSubscriptions } from "./subscription.js";
import type { GroupState } from "./types.js";

export type NewGroupMeta = Omit<GroupMeta, "version">;

/** A group with no members yet: what a standalone commit or an offset reset creates. */
export function emptyGroup(
  groupId: string,
  now: number,
  incarnation: string,
  assignor: Assignor,
): NewGroupMeta {
  return {
    groupId,
    incarnation,
    createdAt: now,
    groupEpoch: 0,
    assignmentEpoch: 0,
    assignor: assignor.name,
    topics: [],
    target: new Map(),
    subscriptions: new Map(),
    distinct: [],
    releasing: new Map(),
    shards: new Map(),
    partial: false,
  };
}

/**
 * The next group epoch after a change of membership, subscriptions or subscribed topics' metadata,
 * with its target assignment computed at once (so assignmentEpoch catches up in the same write and
 * the group never rests in Assigning). The previous target seeds the sticky assignor.
 */
export function nextGroupEpoch(
  groupId: string,
  previous: GroupMeta | undefined,
  members: Iterable<{ memberId: string }>,
  resolved: ResolvedSubscriptions,
  assignor: Assignor,
  now: number,
  newIncarnation: () => string,
): NewGroupMeta {
  const base = previous ?? emptyGroup(groupId, now, newIncarnation(), assignor);
  const epoch = base.groupEpoch + 1;
  const target = assignor.assign({
    members: [...members].map((m) => ({
      memberId: m.memberId,
      topics: resolved.byMember.get(m.memberId) ?? [],
    })),
    partitionCounts: new Map(resolved.topics.map((t) => [t.name, t.partitions])),
    previous: base.target,
  });
  return {
    ...base,
    groupEpoch: epoch,
    assignmentEpoch: epoch,
    assignor: assignor.name,
    topics: resolved.topics,
    target,
  };
}

/** KIP-848's group states, derived from the stored epochs rather than stored themselves. */
export function groupState(group: GroupSnapshot): GroupState {
  const meta = group.meta;
  if (!meta) return "Dead";
  if (group.members.size === 0) return "Empty";
  if (meta.groupEpoch > meta.assignmentEpoch) return "Assigning";
  for (const m of group.members.values()) {
    if (m.memberEpoch !== meta.assignmentEpoch || m.state !== "stable") return "Reconciling";
  }
  return "Stable";
}
