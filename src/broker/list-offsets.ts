import { FloeError } from "../errors.js";
import { readBatchHeader, walkRecordTimestamps } from "../log/record-batch.js";
import type { MetaStore } from "../storage/ports.js";
import type { Reader } from "./read.js";
import { type SegmentRef, segmentsAfter } from "./segment-index.js";
import type { StoredChunk, StoredChunks } from "./stored-chunks.js";
import type { ListedOffset, OffsetSpec, PartitionHead, Topic } from "./types.js";

/** Where a timestamp lookup reads chunks: the read cache, as bytes (StoredChunks). */
export type ChunkSource = Pick<StoredChunks, "chunk" | "records">;

/** Lookups answered by scanning timestamps, since this process started (tests check no record is decoded). */
export const listOffsetsStats = { batchesScanned: 0 };

/**
 * Kafka's ListOffsets: earliest (log start), latest (high-water mark), or the first offset whose
 * timestamp is at or after T, found through the min/max timestamps on the index items so only one
 * chunk is read, then, as Kafka's LogSegment.findOffsetByTimestamp does, through the batch headers'
 * maxTimestamp so only the batch holding the answer is scanned — its timestamps read in place,
 * no record decoded.
 */
export async function listOffsets(
  meta: MetaStore,
  reader: Reader,
  topicName: string,
  partition: number,
  spec: OffsetSpec,
  chunks: ChunkSource,
): Promise<ListedOffset> {
  const topic = await reader.partitionOf(topicName, partition);
  const head = await reader.head(topic, partition);
  if (spec === "earliest") return { partition, offset: head.logStart, timestamp: null };
  if (spec === "latest") return { partition, offset: head.next, timestamp: null };
  if (spec === "maxTimestamp") return maxTimestampOffset(meta, chunks, topic, partition, head);
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
        const found = firstAtOrAfterTimestamp(
          chunks,
          await chunks.chunk(segment),
          Math.max(cursor, head.logStart),
          t,
        );
        if (found) return { partition, offset: found.offset, timestamp: found.timestamp };
      }
      cursor = segment.end;
    }
  }
  return { partition, offset: head.next, timestamp: null };
}

/**
 * The first record of the chunk at offset `from` or later whose timestamp is at least `t`, or
 * undefined. A batch whose header maxTimestamp is below `t` holds no such record (the produce path
 * sets maxTimestamp to its records' largest, as Kafka's LogValidator does) and is skipped unread;
 * the first one that may hold it is scanned for timestamps only (CRC checked, a compressed batch
 * inflated through the cache, as a fetch would).
 */
export function firstAtOrAfterTimestamp(
  chunks: ChunkSource,
  chunk: StoredChunk,
  from: number,
  t: number,
): { offset: number; timestamp: number } | undefined {
  for (let j = 0; j < chunk.batches.length; j++) {
    const batch = chunk.batches[j];
    if (batch.end <= from || batch.records === 0) continue;
    if (readBatchHeader(chunk.bytes, batch.position).maxTimestamp < t) continue;
    let found: { offset: number; timestamp: number } | undefined;
    scanBatch(chunks, chunk, j, (offset, timestamp) => {
      if (offset < from || timestamp < t) return true;
      found = { offset, timestamp };
      return false;
    });
    if (found) return found;
  }
  return undefined;
}

/**
 * The first record with the partition's largest timestamp: the index items' max timestamps (the
 * whole index is walked, as a timestamp search past the last record does) say which chunk holds
 * it, and only that chunk is read. An empty log answers the high-water mark and no timestamp, like
 * a timestamp query that finds nothing.
 */
async function maxTimestampOffset(
  meta: MetaStore,
  chunks: ChunkSource,
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
    const found = maxTimestampRecord(chunks, await chunks.chunk(best), head.logStart, head.next);
    if (found) return { partition, offset: found.offset, timestamp: found.timestamp };
  }
  return { partition, offset: head.next, timestamp: null };
}

/**
 * The first record in [from, until) of the chunk with the largest timestamp, or undefined. A batch
 * wholly inside the range answers its largest timestamp from its header; the first batch with the
 * largest is then scanned for the record. A batch cut by the range is scanned.
 */
export function maxTimestampRecord(
  chunks: ChunkSource,
  chunk: StoredChunk,
  from: number,
  until: number,
): { offset: number; timestamp: number } | undefined {
  let best: { offset: number; timestamp: number } | undefined;
  let bestBatch = -1;
  let bestMax = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < chunk.batches.length; j++) {
    const batch = chunk.batches[j];
    if (batch.end <= from || batch.base >= until || batch.records === 0) continue;
    if (batch.base >= from && batch.end <= until) {
      const max = readBatchHeader(chunk.bytes, batch.position).maxTimestamp;
      if (max > bestMax) {
        bestMax = max;
        bestBatch = j;
        best = undefined;
      }
      continue;
    }
    let found: { offset: number; timestamp: number } | undefined;
    scanBatch(chunks, chunk, j, (offset, timestamp) => {
      if (offset >= from && offset < until && (!found || timestamp > found.timestamp))
        found = { offset, timestamp };
      return true;
    });
    if (found && found.timestamp > bestMax) {
      bestMax = found.timestamp;
      bestBatch = -1;
      best = found;
    }
  }
  if (bestBatch >= 0) {
    // The first record at the header's maxTimestamp ends the walk (the produce path makes the
    // header exact); without one, the batch's largest.
    scanBatch(chunks, chunk, bestBatch, (offset, timestamp) => {
      if (!best || timestamp > best.timestamp) best = { offset, timestamp };
      return timestamp < bestMax;
    });
  }
  return best;
}

/**
 * The records' offsets and timestamps in the chunk's batch `index`, read in place (no record
 * decoded) until `visit` returns false.
 */
function scanBatch(
  chunks: ChunkSource,
  chunk: StoredChunk,
  index: number,
  visit: (offset: number, timestamp: number) => boolean,
): void {
  const batch = chunk.batches[index];
  const { header, region } = chunks.records(chunk, index);
  listOffsetsStats.batchesScanned++;
  walkRecordTimestamps(region, header, batch.position, batch.base, visit);
}
