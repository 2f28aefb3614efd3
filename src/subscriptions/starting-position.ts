import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { mapConcurrent } from "../groups/map-concurrent.js";
import { compileTopicRegex } from "../groups/topic-regex.js";
import type { OffsetToCommit } from "../groups/types.js";
import type { Subscription } from "./types.js";

/** Offsets per commit request: well inside the coordinator's list limit, and it writes them in transactions of its own. */
const OFFSETS_PER_COMMIT = 1000;
/** Topic descriptions and timestamp lookups in flight at once. */
const CONCURRENCY = 16;

/**
 * Where a new subscription begins (Lambda's StartingPosition), made durable as the group's committed
 * offsets for every partition that exists now: LATEST at the high-water mark, TRIM_HORIZON at the log
 * start, AT_TIMESTAMP at the first record at or after the timestamp (Kafka's ListOffsets). Committed
 * standalone, the group being new and empty. A partition that appears later has no committed offset
 * and is delivered from its log start, so nothing appended after creation is ever skipped.
 *
 * The work is one description per matched topic, one lookup per partition for AT_TIMESTAMP, and
 * commits of OFFSETS_PER_COMMIT at a time.
 */
export async function commitStartingOffsets(
  broker: Broker,
  groups: GroupCoordinator,
  subscription: Subscription,
): Promise<void> {
  const topics = await matchedTopics(broker, subscription);
  const perTopic = await mapConcurrent(topics, CONCURRENCY, (topic) =>
    startingOffsets(broker, subscription, topic),
  );
  const offsets = perTopic.flat();
  for (let i = 0; i < offsets.length; i += OFFSETS_PER_COMMIT) {
    await groups.commitOffsets(subscription.groupId, { offsets: offsets.slice(i, i + OFFSETS_PER_COMMIT) });
  }
}

/** The existing topics the subscription names or its regex matches (whole names, as Kafka's). */
async function matchedTopics(broker: Broker, subscription: Subscription): Promise<string[]> {
  const existing = await broker.listTopics();
  if (subscription.topics !== null) {
    const named = new Set(subscription.topics);
    return existing.filter((t) => named.has(t));
  }
  const pattern = compileTopicRegex(subscription.topicRegex ?? "");
  return existing.filter((t) => pattern.matches(t));
}

async function startingOffsets(
  broker: Broker,
  subscription: Subscription,
  topic: string,
): Promise<OffsetToCommit[]> {
  let partitions: { partition: number; logStartOffset: number; highWatermark: number }[];
  try {
    partitions = (await broker.describeTopic(topic)).partitions;
  } catch (e) {
    // Deleted since the listing: nothing of it to start from.
    if (e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") return [];
    throw e;
  }
  const timestamp = subscription.startingPositionTimestamp;
  if (subscription.startingPosition === "AT_TIMESTAMP" && timestamp !== null) {
    return mapConcurrent(partitions, CONCURRENCY, async (p) => ({
      topic,
      partition: p.partition,
      offset: (await broker.listOffsets(topic, p.partition, { timestamp })).offset,
    }));
  }
  return partitions.map((p) => ({
    topic,
    partition: p.partition,
    offset: subscription.startingPosition === "TRIM_HORIZON" ? p.logStartOffset : p.highWatermark,
  }));
}
