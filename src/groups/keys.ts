/**
 * The consumer-group part of the metadata key schema (architecture §2), beside the broker's in
 * `broker/keys.ts`. One partition key per group, so loading a group's members is one query and a
 * group's items never mix with another's.
 */

export const GROUP_META_SK = "meta";
export const MEMBER_PREFIX = "member#";
export const OFFSET_PREFIX = "offset#";
export const TARGET_PREFIX = "target#";

export const groupKeys = {
  group: (groupId: string) => `group#${groupId}`,
  meta: (groupId: string) => ({ pk: `group#${groupId}`, sk: GROUP_META_SK }),
  member: (groupId: string, memberId: string) => ({
    pk: `group#${groupId}`,
    sk: `${MEMBER_PREFIX}${memberId}`,
  }),
  /** One shard of the target assignment and the subscriptions (decision 0012). */
  targetShard: (groupId: string, shard: number) => ({
    pk: `group#${groupId}`,
    sk: `${TARGET_PREFIX}${shard}`,
  }),
  /** Topic names cannot contain '#', so this prefix selects exactly one topic's offsets. */
  topicOffsets: (topic: string) => `${OFFSET_PREFIX}${topic}#`,
  offset: (groupId: string, topic: string, partition: number) => ({
    pk: `group#${groupId}`,
    sk: `${OFFSET_PREFIX}${topic}#${partition}`,
  }),
  /** A directory of group ids, so listing groups is a query, not a table scan (as for topics). */
  directory: "groups",
  directoryEntry: (groupId: string) => ({ pk: "groups", sk: groupId }),
} as const;
