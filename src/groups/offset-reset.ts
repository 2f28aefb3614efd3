import { unknownPartition } from "../broker/topics.js";
import type { PartitionDescription } from "../broker/types.js";
import { FloeError } from "../errors.js";
import type { WriteOp } from "../storage/ports.js";
import type { GroupContext } from "./group-context.js";
import { createEmptyGroup } from "./group-creation.js";
import { nonEmptyGroup } from "./group-errors.js";
import { offsetToDoc } from "./group-records.js";
import { groupKeys } from "./keys.js";
import { settleGroup } from "./membership-change.js";
import { committedOffsets } from "./offset-fetch.js";
import { optimistically } from "./optimistic-retry.js";
import { validateGroupId, validateReset } from "./request-validation.js";
import type { PlannedOffset, ResetOptions, ResetRequest, ResetTarget } from "./types.js";

const OFFSETS_PER_WRITE = 97;

/**
 * kafka-consumer-groups --reset-offsets for one topic: plans the new offset of each partition,
 * clamped to [log start, high-water mark] as Kafka clamps, and with `dryRun` stops there. Only an
 * empty group may be reset (NON_EMPTY_GROUP otherwise): live members would overwrite the reset with
 * their next commit. Each write is conditional on the meta version, which every join bumps, so a
 * member joining mid-reset refuses the rest instead of racing it. Resetting a group that does not
 * exist creates it, as Kafka does.
 */
export async function resetOffsets(
  ctx: GroupContext,
  groupId: string,
  request: ResetRequest,
  options: ResetOptions = {},
): Promise<PlannedOffset[]> {
  validateGroupId(groupId);
  validateReset(request);
  return optimistically(ctx.retry, async () => {
    const group = await settleGroup(ctx, groupId);
    if (group.members.size > 0) throw nonEmptyGroup(groupId, group.members.size, "reset offsets of");
    const topic = await ctx.broker.describeTopic(request.topic);
    const partitions = request.partitions
      ? [...new Set(request.partitions)].sort((a, b) => a - b)
      : topic.partitions.map((p) => p.partition);
    for (const p of partitions) {
      if (p >= topic.partitions.length) throw unknownPartition(topic.name, p, topic.partitions.length);
    }
    const committed = group.meta ? await committedOffsets(ctx, group.meta, [topic.name]) : [];
    const previous = new Map(committed.map((o) => [o.partition, o.offset]));
    const planned: PlannedOffset[] = [];
    for (const p of partitions) {
      const { logStartOffset, highWatermark } = topic.partitions[p];
      const from = previous.get(p) ?? null;
      const wanted = await targetOffset(ctx, topic.partitions[p], topic.name, request.to, from);
      planned.push({
        topic: topic.name,
        partition: p,
        previousOffset: from,
        offset: Math.min(Math.max(wanted, logStartOffset), highWatermark),
      });
    }
    if (options.dryRun) return { done: planned };

    let guard: WriteOp[];
    let incarnation: string;
    let metaVersion: number;
    if (group.meta) {
      guard = [];
      incarnation = group.meta.incarnation;
      metaVersion = group.meta.version;
    } else {
      const created = createEmptyGroup(ctx, group);
      guard = created.ops;
      incarnation = created.meta.incarnation;
      metaVersion = (group.metaVersion ?? 0) + 1;
    }
    const committedAt = ctx.clock();
    for (let i = 0; i < planned.length; i += OFFSETS_PER_WRITE) {
      const ops: WriteOp[] =
        guard.length > 0
          ? guard
          : [{ type: "check", ...groupKeys.meta(groupId), condition: { version: metaVersion } }];
      guard = [];
      for (const o of planned.slice(i, i + OFFSETS_PER_WRITE)) {
        ops.push({
          type: "put",
          ...groupKeys.offset(groupId, o.topic, o.partition),
          data: offsetToDoc({
            topic: o.topic,
            partition: o.partition,
            topicId: topic.topicId,
            offset: o.offset,
            metadata: "",
            committedAt,
            incarnation,
          }),
        });
      }
      await ctx.meta.transact(ops);
    }
    return { done: planned };
  });
}

async function targetOffset(
  ctx: GroupContext,
  { partition, logStartOffset, highWatermark }: PartitionDescription,
  topic: string,
  to: ResetTarget,
  current: number | null,
): Promise<number> {
  if (to === "earliest") return logStartOffset;
  if (to === "latest") return highWatermark;
  if ("offset" in to) return to.offset;
  if ("timestamp" in to)
    return (await ctx.broker.listOffsets(topic, partition, { timestamp: to.timestamp })).offset;
  if (current === null) {
    throw new FloeError(
      "INVALID_REQUEST",
      `Cannot shift the offset of partition ${partition} of topic '${topic}': the group has no committed offset for it.`,
    );
  }
  return current + to.shiftBy;
}
