import type { Broker } from "../broker/broker.js";
import { FloeError } from "../errors.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import { mapConcurrent } from "../groups/map-concurrent.js";
import type { SubscriptionStore } from "./subscription-store.js";
import { subscriptionNotFound } from "./subscription-store.js";
import { addCounts, noCounts } from "./delivery-stats.js";
import type { PartitionDeliveryStats, Subscription, SubscriptionError, SubscriptionStatus } from "./types.js";

type PartitionStatus = SubscriptionStatus["partitions"][number];

/**
 * A subscription with where its delivery stands (issue 14's observability): the counts its
 * dispatchers wrote per partition, summed; the group's committed offsets and lag (what `floe groups
 * describe` shows for its group); the age of the oldest record not yet delivered; the latest error.
 *
 * A partition the dispatcher has stats for but no committed offset yet is delivered from its log
 * start, so with `broker` given its lag is counted from there; without, it is listed with lag 0.
 */
export async function describeSubscription(
  store: SubscriptionStore,
  groups: GroupCoordinator,
  name: string,
  now: number,
  broker?: Pick<Broker, "listOffsets">,
): Promise<Subscription & { status: SubscriptionStatus }> {
  const subscription = await store.get(name);
  if (!subscription) throw subscriptionNotFound(name);
  const [stats, committed] = await Promise.all([
    store.readStats(name),
    groups.fetchOffsets(subscription.groupId),
  ]);

  const partitions = new Map<string, PartitionStatus>();
  const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  for (const o of committed) {
    partitions.set(key(o.topic, o.partition), {
      ...noStats(o.topic, o.partition),
      committedOffset: o.offset,
      highWatermark: o.highWatermark,
      lag: o.lag,
    });
  }
  const uncommitted: PartitionStatus[] = [];
  for (const s of stats) {
    const known = partitions.get(key(s.topic, s.partition));
    if (known) {
      Object.assign(known, s);
    } else {
      const p = { ...s, committedOffset: null, highWatermark: 0, lag: 0 };
      partitions.set(key(s.topic, s.partition), p);
      uncommitted.push(p);
    }
  }
  if (broker) await mapConcurrent(uncommitted, 16, (p) => fillFromLog(broker, p));

  const list = [...partitions.values()].sort((a, b) =>
    a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
  );
  let oldest: number | null = null;
  let lastError: SubscriptionError | null = null;
  const status: SubscriptionStatus = {
    ...noCounts(),
    lag: 0,
    oldestUndeliveredAgeMs: null,
    lastError: null,
    partitions: list,
  };
  for (const p of list) {
    addCounts(status, p);
    status.lag += p.lag;
    // A timestamp on a partition with nothing left to deliver is stale: it was written before the commit.
    if (p.lag > 0 && p.oldestUndeliveredTimestamp !== null) {
      oldest =
        oldest === null ? p.oldestUndeliveredTimestamp : Math.min(oldest, p.oldestUndeliveredTimestamp);
    }
    if (p.lastError && (lastError === null || p.lastError.at > lastError.at)) lastError = p.lastError;
  }
  status.oldestUndeliveredAgeMs = oldest === null ? null : Math.max(0, now - oldest);
  status.lastError = lastError;
  return { ...subscription, status };
}

function noStats(topic: string, partition: number): PartitionDeliveryStats {
  return {
    topic,
    partition,
    ...noCounts(),
    oldestUndeliveredTimestamp: null,
    lastError: null,
    updatedAt: 0,
  };
}

async function fillFromLog(broker: Pick<Broker, "listOffsets">, p: PartitionStatus): Promise<void> {
  try {
    const [start, end] = await Promise.all([
      broker.listOffsets(p.topic, p.partition, "earliest"),
      broker.listOffsets(p.topic, p.partition, "latest"),
    ]);
    p.highWatermark = end.offset;
    p.lag = Math.max(0, end.offset - start.offset);
  } catch (e) {
    // A topic deleted since: nothing of it is left to deliver.
    if (e instanceof FloeError && e.code === "UNKNOWN_TOPIC_OR_PARTITION") return;
    throw e;
  }
}
