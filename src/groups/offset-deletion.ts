import { MAX_TRANSACT_OPS, type WriteOp } from "../storage/ports.js";
import type { GroupContext } from "./group-context.js";
import { groupNotFound } from "./group-errors.js";
import { type GroupSnapshot, offsetFromItem } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { settleGroup } from "./membership-change.js";
import { optimistically } from "./optimistic-retry.js";
import { compileTopicRegex, type TopicPattern } from "./topic-regex.js";
import { validateGroupId } from "./request-validation.js";
import type { TopicPartitions } from "./types.js";

/** Offset deletions per transaction; the remaining op is the check on the group's meta item. */
const DELETIONS_PER_WRITE = MAX_TRANSACT_OPS - 1;

export interface OffsetDeletion {
  topic: string;
  partition: number;
  /** Why this partition's offset was kept; absent when it is gone (or there was none). */
  error?: "GROUP_SUBSCRIBED_TO_TOPIC";
}

/**
 * Kafka's OffsetDelete: removes the committed offsets of some partitions, but never of a topic a
 * current member subscribes to (by name or by pattern), which answers GROUP_SUBSCRIBED_TO_TOPIC, as
 * Kafka does: those members would otherwise lose their position mid-consumption. A partition with
 * no committed offset is simply reported deleted. An unknown group is GROUP_ID_NOT_FOUND.
 *
 * Each deletion is conditional on the offset item as read and on the group's meta item, which
 * every subscription change rewrites, so a member subscribing (or committing) in between makes the
 * pass run again against what it changed.
 */
export async function deleteOffsets(
  ctx: GroupContext,
  groupId: string,
  partitions: TopicPartitions[],
): Promise<OffsetDeletion[]> {
  validateGroupId(groupId);
  return optimistically(ctx.retry, async () => {
    const group = await settleGroup(ctx, groupId);
    const meta = group.meta;
    if (!meta) throw groupNotFound(groupId);
    const subscribed = subscribedTo(group);
    const results: OffsetDeletion[] = [];
    const doomed: WriteOp[] = [];
    for (const { topic, partitions: indexes } of partitions) {
      const kept = subscribed(topic);
      const stored = kept
        ? []
        : await ctx.meta.query(groupKeys.group(groupId), { prefix: groupKeys.topicOffsets(topic) });
      const ours = new Map(
        stored
          .filter((item) => offsetFromItem(item).incarnation === meta.incarnation)
          .map((item) => [offsetFromItem(item).partition, item]),
      );
      for (const partition of indexes) {
        if (kept) {
          results.push({ topic, partition, error: "GROUP_SUBSCRIBED_TO_TOPIC" });
          continue;
        }
        results.push({ topic, partition });
        const item = ours.get(partition);
        if (item) {
          ours.delete(partition);
          doomed.push({ type: "delete", pk: item.pk, sk: item.sk, condition: { version: item.version } });
        }
      }
    }
    const metaCheck: WriteOp = {
      type: "check",
      ...groupKeys.meta(groupId),
      condition: { version: meta.version },
    };
    for (let i = 0; i < doomed.length; i += DELETIONS_PER_WRITE) {
      await ctx.meta.transact([metaCheck, ...doomed.slice(i, i + DELETIONS_PER_WRITE)]);
    }
    return { done: results };
  });
}

function subscribedTo(group: GroupSnapshot): (topic: string) => boolean {
  const names = new Set<string>();
  const patterns: TopicPattern[] = [];
  for (const m of group.members.values()) {
    for (const t of m.subscribedTopics) names.add(t);
    if (m.subscribedTopicRegex) patterns.push(compileTopicRegex(m.subscribedTopicRegex));
  }
  return (topic) => names.has(topic) || patterns.some((re) => re.matches(topic));
}
