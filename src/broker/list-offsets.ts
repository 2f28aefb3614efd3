import { FloeError } from "../errors.js";
import type { MetaStore } from "../storage/ports.js";
import type { Reader } from "./read.js";
import { type SegmentRef, segmentsAfter } from "./segment-index.js";
import type { ListedOffset, OffsetSpec, PartitionHead, Topic } from "./types.js";

/**
 * Kafka's ListOffsets: earliest (log start), latest (high-water mark), or the first offset whose
 * timestamp is at or after T, found through the min/max timestamps on the index items so only one
 * chunk is read.
 */
export async function listOffsets(
  meta: MetaStore,
  reader: Reader,
  topicName: string,
  partition: number,
  spec: OffsetSpec,
): Promise<ListedOffset> {
  const topic = await reader.partitionOf(topicName, partition);
  const head = await reader.head(topic, partition);
  if (spec === "earliest") return { partition, offset: head.logStart, timestamp: null };
  if (spec === "latest") return { partition, offset: head.next, timestamp: null };
  if (spec === "maxTimestamp") return maxTimestampOffset(meta, reader, topic, partition, head);
  const t = spec.timestamp;
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new FloeError(
      "INVALID_REQUEST",
      `Timestamp must be non-negative milliseconds since the epoch, got ${t}.`,
    );
  }
  let cursor = head.logStart;
  while (cursor < head.next) {
    const segments = await segmentsAfter(meta, topic.topicId, partition, cursor, 100);
    if (segments.length === 0) break;
    for (const segment of segments) {
      if (segment.maxTs >= t) {
        for (const r of await reader.chunk(segment)) {
          if (r.offset >= head.logStart && r.offset >= cursor && r.timestamp >= t) {
            return { partition, offset: r.offset, timestamp: r.timestamp };
          }
        }
      }
      cursor = segment.end;
    }
  }
  return { partition, offset: head.next, timestamp: null };
}

/**
 * The first record with the partition's largest timestamp: the index items' max timestamps (the
 * whole index is walked, as a timestamp search past the last record does) say which chunk holds
 * it, and only that chunk is read. An empty log answers the high-water mark and no timestamp, like
 * a timestamp query that finds nothing.
 */
async function maxTimestampOffset(
  meta: MetaStore,
  reader: Reader,
  topic: Topic,
  partition: number,
  head: PartitionHead,
): Promise<ListedOffset> {
  let best: SegmentRef | undefined;
  let cursor = head.logStart;
  while (cursor < head.next) {
    const segments = await segmentsAfter(meta, topic.topicId, partition, cursor, 100);
    if (segments.length === 0) break;
    for (const segment of segments) {
      if (segment.end > head.logStart && (!best || segment.maxTs > best.maxTs)) best = segment;
      cursor = segment.end;
    }
  }
  if (best) {
    let found: { offset: number; timestamp: number } | undefined;
    for (const r of await reader.chunk(best)) {
      if (r.offset >= head.logStart && r.offset < head.next && (!found || r.timestamp > found.timestamp))
        found = r;
    }
    if (found) return { partition, offset: found.offset, timestamp: found.timestamp };
  }
  return { partition, offset: head.next, timestamp: null };
}
