/**
 * The metadata key schema (architecture §2), in one place so no other file spells a key by hand.
 * Partitions are keyed by topicId, not name (KIP-516): a deleted and re-created topic never sees
 * its predecessor's log.
 */

/** Offsets in sort keys are zero-padded so lexicographic order is numeric order. */
const OFFSET_DIGITS = 20;

export function padOffset(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, "0");
}

export const keys = {
  topic: (name: string) => ({ pk: `topic#${name}`, sk: "meta" }),
  /** A directory of topic names, so listing topics is a query, not a table scan. */
  topicDirectory: "topics",
  topicDirectoryEntry: (name: string) => ({ pk: "topics", sk: name }),
  /** Topics deleted but not yet reclaimed; maintenance walks this to free their storage. */
  deletedTopicEntry: (topicId: string) => ({ pk: "deleted-topics", sk: topicId }),
  partition: (topicId: string, partition: number) => `part#${topicId}#${partition}`,
  head: (topicId: string, partition: number) => ({ pk: `part#${topicId}#${partition}`, sk: "head" }),
  segmentPrefix: "seg#",
  /** A segment item's sort key is its exclusive end offset: the first segment holding offset o is the first with sk > seg#o. */
  segment: (topicId: string, partition: number, endOffset: number) => ({
    pk: `part#${topicId}#${partition}`,
    sk: `seg#${padOffset(endOffset)}`,
  }),
  segmentSortKey: (endOffset: number) => `seg#${padOffset(endOffset)}`,
  objectRef: (objectKey: string) => ({ pk: `obj#${objectKey}`, sk: "meta" }),
  /** The idempotent producer (architecture §13, decision 0008): its epoch, and its sequences per partition. */
  producer: (producerId: number) => ({ pk: `producer#${producerId}`, sk: "meta" }),
  producerSequence: (producerId: number, topicId: string, partition: number) => ({
    pk: keys.producer(producerId).pk,
    sk: `seq#${topicId}#${partition}`,
  }),
  producerSequencePrefix: "seq#",
  /** Every live producer id, so maintenance expires them with a query, never a scan. */
  producerDirectory: "producers",
  producerDirectoryEntry: (producerId: number) => ({ pk: "producers", sk: padOffset(producerId) }),
  /** The counter producer ids are drawn from (Kafka's ProducerIdManager block, one id at a time). */
  producerIdCounter: { pk: "producer-ids", sk: "next" },
  /** A named producer's id (Kafka's transactional.id): re-initialising it bumps the epoch. */
  transactionalId: (name: string) => ({ pk: `txn#${name}`, sk: "meta" }),
  /** Push subscriptions' definitions (architecture §14), under one key so listing them is one query. */
  subscriptionDirectory: "subscriptions",
  subscription: (name: string) => ({ pk: "subscriptions", sk: name }),
  /** A subscription's per-partition delivery stats, each written by the partition's one dispatcher. */
  subscriptionStatsPartition: (name: string) => `subscription#${name}`,
  subscriptionStatsPrefix: "stats#",
  subscriptionStats: (name: string, topic: string, partition: number) => ({
    pk: `subscription#${name}`,
    sk: `stats#${topic}#${partition}`,
  }),
} as const;
