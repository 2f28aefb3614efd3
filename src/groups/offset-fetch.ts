import { FloeError } from "../errors.js";
import type { GroupContext } from "./group-context.js";
import { type GroupMeta, metaFromItem, offsetFromItem, type StoredOffset } from "./group-records.js";
import { groupKeys, OFFSET_PREFIX } from "./keys.js";
import { mapConcurrent } from "./map-concurrent.js";
import { compareStrings } from "./partition-set.js";
import { validateGroupId } from "./request-validation.js";
import type { GroupOffset } from "./types.js";

/**
 * Kafka's OffsetFetch with the lag kafka-consumer-groups prints. Only partitions with a committed
 * offset are listed; an unknown group has none (a consumer starting a new group asks before it
 * joins). Offsets of a deleted topic, or of an earlier topic of the same name, are not reported.
 */
export async function fetchOffsets(
  ctx: GroupContext,
  groupId: string,
  topics?: string[],
): Promise<GroupOffset[]> {
  validateGroupId(groupId);
  if (topics !== undefined && (!Array.isArray(topics) || topics.some((t) => typeof t !== "string"))) {
    throw new FloeError("INVALID_REQUEST", "topics must be an array of topic names.");
  }
  const k = groupKeys.meta(groupId);
  const item = await ctx.meta.get(k.pk, k.sk);
  if (!item || item.data.deleted === true) return [];
  return committedOffsets(ctx, metaFromItem(item), topics);
}

export async function committedOffsets(
  ctx: GroupContext,
  meta: GroupMeta,
  topics?: string[],
): Promise<GroupOffset[]> {
  const pk = groupKeys.group(meta.groupId);
  const items = topics
    ? (
        await Promise.all(
          [...new Set(topics)].map((t) => ctx.meta.query(pk, { prefix: groupKeys.topicOffsets(t) })),
        )
      ).flat()
    : await ctx.meta.query(pk, { prefix: OFFSET_PREFIX });
  const stored = items.map(offsetFromItem).filter((o) => o.incarnation === meta.incarnation);
  const topicIds = new Map<string, string | undefined>();
  for (const name of new Set(stored.map((o) => o.topic))) topicIds.set(name, await currentTopicId(ctx, name));
  const live = stored.filter((o) => topicIds.get(o.topic) === o.topicId);
  const withLag = await mapConcurrent(live, 16, (o) => withHighWatermark(ctx, o));
  return withLag
    .filter((o): o is GroupOffset => o !== undefined)
    .sort((a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition);
}

async function withHighWatermark(ctx: GroupContext, o: StoredOffset): Promise<GroupOffset | undefined> {
  try {
    const latest = await ctx.broker.listOffsets(o.topic, o.partition, "latest");
    return {
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: o.metadata,
      highWatermark: latest.offset,
      lag: Math.max(0, latest.offset - o.offset),
    };
  } catch (e) {
    if (e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") return undefined;
    throw e;
  }
}

async function currentTopicId(ctx: GroupContext, name: string): Promise<string | undefined> {
  try {
    return (await ctx.broker.topics.cached(name)).topicId;
  } catch (e) {
    if (
      e instanceof FloeError &&
      (e.code === "UNKNOWN_TOPIC_OR_PARTITION" || e.code === "INVALID_TOPIC_EXCEPTION")
    ) {
      return undefined;
    }
    throw e;
  }
}
