import type { GroupContext } from "./group-context.js";
import { groupState } from "./group-epoch.js";
import { groupNotFound } from "./group-errors.js";
import type { GroupSnapshot } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { mapConcurrent } from "./map-concurrent.js";
import { settleGroup } from "./membership-change.js";
import { committedOffsets } from "./offset-fetch.js";
import { optimistically } from "./optimistic-retry.js";
import { compareStrings, toTopicPartitions } from "./partition-set.js";
import { validateGroupId } from "./request-validation.js";
import type { GroupDescription, GroupListing, MemberProtocol } from "./types.js";

/**
 * ConsumerGroupDescribe plus the committed offsets and lag kafka-consumer-groups --describe shows.
 * Expired members are removed first, so what it reports is what the next heartbeat will see. An
 * unknown group is GROUP_ID_NOT_FOUND, as in KIP-848's describe.
 */
export async function describeGroup(ctx: GroupContext, groupId: string): Promise<GroupDescription> {
  validateGroupId(groupId);
  const group = await settled(ctx, groupId);
  const meta = group.meta;
  if (!meta) throw groupNotFound(groupId);
  return {
    groupId,
    state: groupState(group),
    groupEpoch: meta.groupEpoch,
    assignmentEpoch: meta.assignmentEpoch,
    assignor: meta.assignor,
    members: [...group.members.values()]
      .sort((a, b) => compareStrings(a.memberId, b.memberId))
      .map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        memberEpoch: m.memberEpoch,
        subscribedTopics: m.subscribedTopics,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: toTopicPartitions(m.assigned),
        targetAssignment: toTopicPartitions(meta.target.get(m.memberId) ?? []),
        pendingRevocation: toTopicPartitions(m.revoking),
        lastHeartbeatMs: m.lastHeartbeatMs,
        protocol: m.protocol,
      })),
    offsets: await committedOffsets(ctx, meta),
  };
}

/** Kafka's ListGroups: every group with its state, from the groups directory (one query, no scan). */
export async function listGroups(ctx: GroupContext): Promise<GroupListing[]> {
  const ids = (await ctx.meta.query(groupKeys.directory)).map((item) => item.sk);
  const listed = await mapConcurrent(ids, 8, async (groupId): Promise<GroupListing | undefined> => {
    const group = await settled(ctx, groupId);
    // Deleted between the directory query and this read.
    if (!group.meta) return undefined;
    return { groupId, state: groupState(group), members: group.members.size, type: groupType(group) };
  });
  return listed.filter((g): g is GroupListing => g !== undefined);
}

/**
 * Kafka's group type as ListGroups reports it: a group whose members all speak the classic
 * protocol is `classic`, as Kafka 4 downgrades a consumer group once its last consumer-protocol
 * member leaves. An empty group is `consumer`; Kafka keeps an empty group's type (a classic group
 * whose members all left lists as classic and Empty), which would need the type stored on meta.
 */
function groupType(group: GroupSnapshot): MemberProtocol {
  if (group.members.size === 0) return "consumer";
  for (const m of group.members.values()) if (m.protocol !== "classic") return "consumer";
  return "classic";
}

function settled(ctx: GroupContext, groupId: string): Promise<GroupSnapshot> {
  return optimistically(ctx.retry, async () => ({ done: await settleGroup(ctx, groupId) }));
}
