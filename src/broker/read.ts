import { FloeError, StorageError } from "../errors.js";
import { decodeBatches } from "../log/record-batch.js";
import type { MetaStore, ObjectStore } from "../storage/ports.js";
import type { AppendNotifier } from "./append-notifier.js";
import { sleep } from "./backoff.js";
import { ChunkCache } from "./chunk-cache.js";
import { keys } from "./keys.js";
import { type SegmentRef, segmentsAfter } from "./segment-index.js";
import { headFromItem, type TopicAdmin, unknownPartition, unknownTopic } from "./topics.js";
import type { FetchedRecord, FetchRequest, FetchResult, PartitionHead, Topic } from "./types.js";

export interface ReaderOptions {
  clock: () => number;
  /** Memory for decoded chunks. */
  chunkCacheBytes: number;
  /** How often a long-poll re-reads the head for appends made by other processes. */
  longPollIntervalMs: number;
  /** The cap on maxWaitMs (Kafka's fetch.max.wait.ms is a client setting; the server bounds it). */
  maxWaitCapMs: number;
}

/** Kafka's max.poll.records. */
export const DEFAULT_MAX_RECORDS = 500;
/** Kafka's max.partition.fetch.bytes. */
export const DEFAULT_MAX_BYTES = 1_048_576;
/** Segments looked up per index query; their chunks are fetched concurrently. */
const SEGMENT_PAGE = 8;
/** How often a read re-queries an index it saw mid-change before calling the index broken. */
const MAX_INDEX_REREADS = 3;
/** A half-seen transaction settles within milliseconds. */
const INDEX_REREAD_DELAY_MS = 5;

/** A record fetch; a many-partition fetch sets `minOneRecord` false for partitions after the first that answered data. */
export interface RecordFetchRequest extends FetchRequest {
  /**
   * Default true: the first record is returned even when larger than maxBytes, so a consumer always
   * progresses. Kafka grants that to the first partition of a response with data only; with false,
   * records beyond maxBytes are left out and maxBytes may be 0 (just the partition's marks).
   */
  minOneRecord?: boolean;
}

/** What a record costs against maxBytes (and min bytes): its payload plus Kafka's per-record framing, roughly. */
export function recordBytes(r: FetchedRecord): number {
  let n = 20 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length + (h.value?.length ?? 0) + 4;
  return n;
}

/**
 * Fetch (architecture §4): find the segments covering the offset through the index, GET only each
 * partition's chunk by byte range, decode and place the records at their offsets. Segments are
 * immutable, so decoded chunks are cached by object key and range.
 */
export class Reader {
  private readonly cache: ChunkCache<FetchedRecord[]>;

  constructor(
    private readonly meta: MetaStore,
    private readonly objects: ObjectStore,
    private readonly topics: TopicAdmin,
    private readonly notifier: AppendNotifier,
    private readonly options: ReaderOptions,
  ) {
    this.cache = new ChunkCache(options.chunkCacheBytes);
  }

  async head(topic: Topic, partition: number): Promise<PartitionHead> {
    const k = keys.head(topic.topicId, partition);
    return headFromItem(await this.meta.get(k.pk, k.sk));
  }

  async partitionOf(topicName: string, partition: number): Promise<Topic> {
    const topic = await this.topics.cached(topicName);
    if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
      // The cached topic may predate added partitions.
      const fresh = await this.topics.get(topicName);
      if (!Number.isInteger(partition) || partition < 0 || partition >= fresh.partitions) {
        throw unknownPartition(topicName, partition, fresh.partitions);
      }
      return fresh;
    }
    return topic;
  }

  async fetch(request: RecordFetchRequest): Promise<FetchResult> {
    const topic = await this.partitionOf(request.topic, request.partition);
    const offset = request.offset;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FloeError("OFFSET_OUT_OF_RANGE", `Offset must be a non-negative integer, got ${offset}.`);
    }
    const maxRecords = request.maxRecords ?? DEFAULT_MAX_RECORDS;
    const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxWaitMs = Math.min(Math.max(0, request.maxWaitMs ?? 0), this.options.maxWaitCapMs);
    if (!Number.isInteger(maxRecords) || maxRecords < 1) {
      throw new FloeError("INVALID_REQUEST", `maxRecords must be an integer >= 1, got ${maxRecords}.`);
    }
    const minOneRecord = request.minOneRecord ?? true;
    const leastBytes = minOneRecord ? 1 : 0;
    if (!Number.isInteger(maxBytes) || maxBytes < leastBytes) {
      throw new FloeError(
        "INVALID_REQUEST",
        `maxBytes must be an integer >= ${leastBytes}, got ${maxBytes}.`,
      );
    }

    let head = await this.head(topic, request.partition);
    if (offset < head.logStart || offset > head.next) {
      throw new FloeError(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${offset} is out of range for ${request.topic}-${request.partition}: the log spans [${head.logStart}, ${head.next}).`,
      );
    }
    if (offset === head.next && maxWaitMs > 0) {
      head = await this.waitForAppend(
        topic,
        request.partition,
        offset,
        this.options.clock() + maxWaitMs,
        () => request.signal?.aborted === true,
      );
    }
    const records =
      maxBytes === 0
        ? []
        : await this.collect(
            topic,
            request.partition,
            Math.max(offset, head.logStart),
            head.next,
            maxRecords,
            maxBytes,
            minOneRecord,
          );
    return {
      topic: request.topic,
      partition: request.partition,
      records,
      nextOffset: records.length > 0 ? records[records.length - 1].offset + 1 : offset,
      highWatermark: head.next,
      logStartOffset: head.logStart,
    };
  }

  /** Waits until the partition's high-water mark passes `offset` or the deadline; answers the head then. */
  async waitForAppend(
    topic: Topic,
    partition: number,
    offset: number,
    deadline: number,
    cancelled: () => boolean = () => false,
  ): Promise<PartitionHead> {
    for (;;) {
      const left = deadline - this.options.clock();
      if (left <= 0 || cancelled()) return this.head(topic, partition);
      await this.notifier.wait(topic.topicId, partition, Math.min(left, this.options.longPollIntervalMs));
      const head = await this.head(topic, partition);
      if (head.next > offset) return head;
    }
  }

  private async collect(
    topic: Topic,
    partition: number,
    from: number,
    highWatermark: number,
    maxRecords: number,
    maxBytes: number,
    minOneRecord: boolean,
  ): Promise<FetchedRecord[]> {
    const out: FetchedRecord[] = [];
    let bytes = 0;
    let cursor = from;
    while (cursor < highWatermark) {
      const page = await this.segmentsFrom(topic, partition, cursor, highWatermark);
      if ("logStart" in page) {
        if (out.length > 0) return out;
        throw deletedByRetention(topic, partition, cursor, page.logStart);
      }
      const segments = page.segments;
      // Start every GET of the page at once; consume them in order.
      const loads = segments.map((s) => this.chunk(s));
      for (let i = 0; i < segments.length; i++) {
        // A gap inside the page: query again from the cursor, as above.
        if (segments[i].base > cursor) break;
        const records = await loads[i];
        for (let j = firstAtOrAfter(records, cursor); j < records.length; j++) {
          const r = records[j];
          if (r.offset >= highWatermark) return out;
          const n = recordBytes(r);
          // Kafka returns at least one record even when it exceeds maxBytes, so consumers progress.
          if ((out.length > 0 || !minOneRecord) && bytes + n > maxBytes) return out;
          out.push(r);
          bytes += n;
          if (out.length >= maxRecords) return out;
        }
        cursor = Math.max(cursor, segments[i].end);
      }
    }
    return out;
  }

  /**
   * The next page of segments holding `cursor`. Maintenance may change the index under a read:
   * retention may have moved the log start past the cursor (answered as `{ logStart }`; Kafka
   * answers OFFSET_OUT_OF_RANGE), or a compaction swap may be seen half-applied (a DynamoDB Query is
   * read-committed, not a snapshot of a transaction), so read again. Offsets are never skipped:
   * that would lose records silently.
   */
  async segmentsFrom(
    topic: Topic,
    partition: number,
    cursor: number,
    highWatermark: number,
  ): Promise<{ segments: SegmentRef[] } | { logStart: number }> {
    for (let gaps = 1; ; gaps++) {
      const segments = await segmentsAfter(this.meta, topic.topicId, partition, cursor, SEGMENT_PAGE);
      if (segments.length > 0 && segments[0].base <= cursor) return { segments };
      const head = await this.head(topic, partition);
      if (head.logStart > cursor) return { logStart: head.logStart };
      // A deleted topic's index is dismantled by maintenance while a cached topic still names it.
      const current = await this.topics.get(topic.name);
      if (current.topicId !== topic.topicId) throw unknownTopic(topic.name);
      if (gaps > MAX_INDEX_REREADS) {
        throw new StorageError(
          `The index of ${topic.name}-${partition} has no segment holding offset ${cursor} below the high-water mark ${highWatermark}.`,
        );
      }
      await sleep(gaps * INDEX_REREAD_DELAY_MS);
    }
  }

  /** One chunk's records at their absolute offsets: batch i starts where batch i-1's offsets end. */
  chunk(segment: SegmentRef): Promise<FetchedRecord[]> {
    return this.cache.get(`${segment.key}@${segment.pos}+${segment.len}`, segment.len, async () => {
      const bytes = await this.objects.get(segment.key, {
        start: segment.pos,
        end: segment.pos + segment.len,
      });
      const out: FetchedRecord[] = [];
      let base = segment.base;
      for (const batch of decodeBatches(bytes)) {
        // Stored batches carry baseOffset 0; the index supplies the real one.
        for (const r of batch.records) {
          out.push({
            offset: base + (r.offset - batch.baseOffset),
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
          });
        }
        base += batch.lastOffsetDelta + 1;
      }
      return out;
    });
  }
}

function firstAtOrAfter(records: FetchedRecord[], offset: number): number {
  let lo = 0;
  let hi = records.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (records[mid].offset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function deletedByRetention(
  topic: Topic,
  partition: number,
  cursor: number,
  logStart: number,
): FloeError {
  return new FloeError(
    "OFFSET_OUT_OF_RANGE",
    `Offset ${cursor} of ${topic.name}-${partition} was deleted by retention during the fetch: the log now starts at ${logStart}.`,
  );
}
