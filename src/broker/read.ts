import { FloeError, StorageError } from "../errors.js";
import { utf8Length } from "../log/byte-writer.js";
import { readRecords } from "../log/record-batch.js";
import { sizeOfVarint } from "../log/varint.js";
import type { MetaStore } from "../storage/ports.js";
import type { AppendNotifier } from "./append-notifier.js";
import { sleep } from "./backoff.js";
import { keys } from "./keys.js";
import { type SegmentRef, segmentsAfter } from "./segment-index.js";
import type { StoredChunk, StoredChunks } from "./stored-chunks.js";
import { headFromItem, type TopicAdmin, unknownPartition, unknownTopic } from "./topics.js";
import type { FetchedRecord, FetchRequest, FetchResult, PartitionHead, Topic } from "./types.js";

export interface ReaderOptions {
  clock: () => number;
  /** How often a long-poll re-reads the head for appends made by other processes. */
  longPollIntervalMs: number;
  /** The cap on maxWaitMs (Kafka's fetch.max.wait.ms is a client setting; the server bounds it). */
  maxWaitCapMs: number;
}

/** Kafka's max.poll.records. */
export const DEFAULT_MAX_RECORDS = 500;
/** Kafka's max.partition.fetch.bytes. */
export const DEFAULT_MAX_BYTES = 1_048_576;
/**
 * The most record bytes one fetch gathers, whatever maxBytes asks: what the deployed front door
 * can carry back (Lambda's 6 MB response payload; MAX_BODY_BYTES of the HTTP API). Kafka's rule
 * still holds: a first record larger than that is returned alone.
 */
export const MAX_FETCH_ANSWER_BYTES = 6 * 1024 * 1024;
/**
 * A batch of at most this many records is decoded whole when a fetch opens it, and its records
 * kept in the cache (charged their estimated heap), so hot batches are decoded once, not per fetch;
 * a larger one is decoded only as far as the fetch reads, and not kept.
 */
const KEEP_DECODED_MAX_RECORDS = 4096;
/**
 * Heap of a decoded record beyond its bytes, measured on Node 20 (node --expose-gc): the record
 * object and its headers array ~128 bytes, each key or value view ~96, each header ~224.
 */
const DECODED_RECORD_BYTES = 128;
const DECODED_VIEW_BYTES = 96;
const DECODED_HEADER_BYTES = 224;
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

/**
 * What a record costs against maxBytes (and min bytes): its size on the wire, as Kafka encodes it
 * inside its batch (DefaultRecord.sizeInBytes: key, value, headers and their framing, at least 7
 * bytes), so a tombstone or an empty record is never free.
 */
export function recordBytes(r: FetchedRecord): number {
  if (r.size !== undefined) return r.size;
  // From the fields, with the one-byte timestamp and offset deltas of a fresh batch's first record.
  let body = 3 + nullableBytes(r.key) + nullableBytes(r.value) + sizeOfVarint(r.headers.length);
  for (const h of r.headers) {
    const keyLength = utf8Length(h.key);
    body += sizeOfVarint(keyLength) + keyLength + nullableBytes(h.value);
  }
  return sizeOfVarint(body) + body;
}

function nullableBytes(b: Uint8Array | null): number {
  return b === null ? 1 : sizeOfVarint(b.length) + b.length;
}

/**
 * Fetch (architecture §4): find the segments covering the offset through the index, GET only each
 * partition's chunk by byte range, decode and place the records at their offsets. Segments are
 * immutable, so chunks are cached (as bytes, StoredChunks); records are decoded per fetch, batch by
 * batch and only as far as the answer's limits reach.
 */
export class Reader {
  /** Batches whose records a fetch decoded (some of them), since this reader started. */
  batchesDecoded = 0;

  constructor(
    private readonly meta: MetaStore,
    private readonly chunks: StoredChunks,
    private readonly topics: TopicAdmin,
    private readonly notifier: AppendNotifier,
    private readonly options: ReaderOptions,
  ) {}

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
            Math.min(maxBytes, MAX_FETCH_ANSWER_BYTES),
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
    // Set when the answer is complete: a limit reached or the high-water mark passed.
    let done = false;
    const take = (r: FetchedRecord): boolean => {
      if (r.offset >= highWatermark) {
        done = true;
        return false;
      }
      // Kafka returns at least one record even when it exceeds maxBytes, so consumers progress.
      const size = recordBytes(r);
      if ((out.length > 0 || !minOneRecord) && bytes + size > maxBytes) {
        done = true;
        return false;
      }
      out.push(r);
      bytes += size;
      if (out.length >= maxRecords || bytes >= maxBytes) done = true;
      return !done;
    };
    while (cursor < highWatermark) {
      const page = await this.segmentsFrom(topic, partition, cursor, highWatermark);
      if ("logStart" in page) {
        if (out.length > 0) return out;
        throw deletedByRetention(topic, partition, cursor, page.logStart);
      }
      const segments = page.segments;
      // Start the GETs this answer can reach at once (stored bytes are at most the records' wire
      // bytes, compressed), consume them in order; the rest are read when reached.
      let aheadBytes = bytes;
      let aheadRecords = out.length;
      const loads = segments.map((s, i) => {
        if (s.base >= highWatermark || (i > 0 && (aheadBytes >= maxBytes || aheadRecords >= maxRecords))) {
          return undefined;
        }
        aheadBytes += s.len;
        aheadRecords += s.count;
        return this.chunks.chunk(s);
      });
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        // A gap inside the page: query again from the cursor, as above.
        if (segment.base > cursor) break;
        if (segment.base >= highWatermark) return out;
        const chunk = await (loads[i] ?? this.chunks.chunk(segment));
        this.readChunk(chunk, cursor, highWatermark, take);
        if (done) return out;
        cursor = Math.max(cursor, segment.end);
      }
    }
    return out;
  }

  /**
   * Decodes the chunk's records from `cursor` on, batch by batch, until `take` says stop or a batch
   * starts at `until`: batches past the answer are not even opened.
   */
  private readChunk(
    chunk: StoredChunk,
    cursor: number,
    until: number,
    take: (r: FetchedRecord) => boolean,
  ): void {
    const { batches } = chunk;
    for (let j = firstBatchEndingAfter(chunk, cursor); j < batches.length; j++) {
      const batch = batches[j];
      if (batch.base >= until) return;
      if (batch.records === 0) continue;
      let records = this.chunks.decoded<FetchedRecord>(chunk, j);
      if (records === undefined) {
        const { header, region } = this.chunks.records(chunk, j);
        this.batchesDecoded++;
        if (batch.records > KEEP_DECODED_MAX_RECORDS) {
          if (!readRecords(region, header, batch.position, batch.base, cursor, take)) return;
          continue;
        }
        const all: FetchedRecord[] = [];
        // The views keep the batch's bytes alive, so those are charged too.
        let bytes = region.length;
        readRecords(region, header, batch.position, batch.base, batch.base, (r) => {
          all.push(r);
          bytes += decodedBytes(r);
          return true;
        });
        this.chunks.keepDecoded(chunk, j, all, bytes);
        records = all;
      }
      for (let k = firstAtOrAfter(records, cursor); k < records.length; k++) {
        if (!take(records[k])) return;
      }
    }
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
}

/** A decoded record's estimated heap, its bytes excluded (they are the batch's). */
function decodedBytes(r: FetchedRecord): number {
  let n = DECODED_RECORD_BYTES;
  if (r.key !== null) n += DECODED_VIEW_BYTES;
  if (r.value !== null) n += DECODED_VIEW_BYTES;
  for (const h of r.headers) n += DECODED_HEADER_BYTES + h.key.length * 2;
  return n;
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

/** The first batch of the chunk whose offsets reach past `offset`. */
function firstBatchEndingAfter(chunk: StoredChunk, offset: number): number {
  const { batches } = chunk;
  let lo = 0;
  let hi = batches.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (batches[mid].end <= offset) lo = mid + 1;
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
