import { concatBytes } from "../log/concat-bytes.js";
import { FloeError } from "../errors.js";
import { DEFAULT_MAX_BYTES, deletedByRetention, type Reader } from "./read.js";
import type { StoredChunks } from "./stored-chunks.js";
import type { FetchRequest, PartitionHead, Topic } from "./types.js";

export interface RawReaderOptions {
  clock: () => number;
  maxWaitCapMs: number;
}

/**
 * The most batch bytes one binary fetch answers, whatever maxBytes asks: 4 MiB, what the deployed
 * front door carries back (API Gateway returns a binary body base64-encoded inside Lambda's 6 MB
 * response payload; the binary produce body has the same bound). As in Kafka, a first batch larger
 * than that is still returned alone (a consumer must progress); batches are at most the topic's
 * max.message.bytes, so a topic that lets them exceed 4 MiB can be read whole only from floe dev
 * or the Kafka listener, not through a deployed API Gateway.
 */
export const MAX_RAW_FETCH_ANSWER_BYTES = 4 * 1024 * 1024;

/** A raw fetch; Kafka's Fetch sets `minOneBatch` false for partitions after the first that answered data. */
export interface RawFetchRequest extends FetchRequest {
  /**
   * Default true: the first batch is returned even when larger than maxBytes, so a consumer always
   * progresses. Kafka grants that to the first partition of a response with data only; with false,
   * batches beyond maxBytes are left out and maxBytes may be 0 (just the partition's marks).
   */
  minOneBatch?: boolean;
  /**
   * The partition's high-water mark and log start as a read just made them (a first pass of the
   * same fetch): the batches are read up to them instead of reading the head again.
   */
  marks?: { highWatermark: number; logStartOffset: number };
}

/** A binary fetch answer: Kafka's FetchResponse records field for one partition, plus its marks. */
export interface RawFetchResult {
  topic: string;
  partition: number;
  /**
   * Whole RecordBatch v2 batches, concatenated, with their real base offsets patched in. The first
   * may start before the requested offset, as Kafka's fetch answers; readers skip those records.
   */
  bytes: Uint8Array;
  batches: number;
  records: number;
  /** The offset after the last batch returned (the requested offset when none was). */
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

/**
 * Fetch for the binary fast path (architecture §4, §8): the same index walk as `Reader`, but the chunks
 * are served as the stored bytes with base offsets patched in, never decoded into records.
 * Batches are returned whole, so limits are met at batch boundaries (always at least one batch).
 */
export class RawReader {
  constructor(
    /** Topic lookup, heads and long-polling are the record reader's; only the chunk handling differs. */
    private readonly reader: Reader,
    /** The chunks, shared with the record reader under one budget. */
    private readonly chunks: StoredChunks,
    private readonly options: RawReaderOptions,
  ) {}

  async fetch(request: RawFetchRequest): Promise<RawFetchResult> {
    const topic = await this.reader.partitionOf(request.topic, request.partition);
    const offset = request.offset;
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new FloeError("OFFSET_OUT_OF_RANGE", `Offset must be a non-negative integer, got ${offset}.`);
    }
    // Kafka's Fetch is bounded by bytes only; max.poll.records is the consumer's business. So a
    // record limit applies only when asked for, and then at batch granularity.
    const maxRecords = request.maxRecords ?? Number.POSITIVE_INFINITY;
    const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
    const maxWaitMs = Math.min(Math.max(0, request.maxWaitMs ?? 0), this.options.maxWaitCapMs);
    const minOneBatch = request.minOneBatch ?? true;
    if (maxRecords !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxRecords) || maxRecords < 1)) {
      throw new FloeError("INVALID_REQUEST", `maxRecords must be an integer >= 1, got ${maxRecords}.`);
    }
    const leastBytes = minOneBatch ? 1 : 0;
    if (!Number.isInteger(maxBytes) || maxBytes < leastBytes) {
      throw new FloeError(
        "INVALID_REQUEST",
        `maxBytes must be an integer >= ${leastBytes}, got ${maxBytes}.`,
      );
    }

    let head: Pick<PartitionHead, "next" | "logStart"> = request.marks
      ? { next: request.marks.highWatermark, logStart: request.marks.logStartOffset }
      : await this.reader.head(topic, request.partition);
    if (offset < head.logStart || offset > head.next) {
      throw new FloeError(
        "OFFSET_OUT_OF_RANGE",
        `Offset ${offset} is out of range for ${request.topic}-${request.partition}: the log spans [${head.logStart}, ${head.next}).`,
      );
    }
    if (offset === head.next && maxWaitMs > 0) {
      head = await this.reader.waitForAppend(
        topic,
        request.partition,
        offset,
        this.options.clock() + maxWaitMs,
        () => request.signal?.aborted === true,
      );
    }
    const from = Math.max(offset, head.logStart);
    const picked =
      maxBytes === 0
        ? { parts: [], batches: 0, records: 0, next: from }
        : await this.collect(
            topic,
            request.partition,
            from,
            head.next,
            maxRecords,
            Math.min(maxBytes, MAX_RAW_FETCH_ANSWER_BYTES),
            minOneBatch,
          );
    return {
      topic: request.topic,
      partition: request.partition,
      bytes: concatBytes(picked.parts),
      batches: picked.batches,
      records: picked.records,
      nextOffset: picked.batches > 0 ? picked.next : offset,
      highWatermark: head.next,
      logStartOffset: head.logStart,
    };
  }

  private async collect(
    topic: Topic,
    partition: number,
    from: number,
    highWatermark: number,
    maxRecords: number,
    maxBytes: number,
    minOneBatch: boolean,
  ): Promise<{ parts: Uint8Array[]; batches: number; records: number; next: number }> {
    const parts: Uint8Array[] = [];
    let bytes = 0;
    let batches = 0;
    let records = 0;
    let cursor = from;
    const done = () => ({ parts, batches, records, next: cursor });
    while (cursor < highWatermark) {
      const page = await this.reader.segmentsFrom(topic, partition, cursor, highWatermark);
      if ("logStart" in page) {
        if (batches > 0) return done();
        throw deletedByRetention(topic, partition, cursor, page.logStart);
      }
      const segments = page.segments;
      // Read ahead only as far as this answer can reach: a page of large (compacted) chunks read
      // whole would crowd each other out of the cache and be read again by the next fetch.
      let ahead = bytes;
      const loads = segments.map((s, i) => {
        if (s.base >= highWatermark || (i > 0 && ahead >= maxBytes)) return undefined;
        ahead += s.len;
        return this.chunks.chunk(s);
      });
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i];
        if (segment.base > cursor) break;
        const load = loads[i] ?? (segment.base < highWatermark ? this.chunks.chunk(segment) : undefined);
        if (load === undefined) return done();
        const chunk = await load;
        let runStart = -1;
        let runEnd = -1;
        for (const batch of chunk.batches) {
          if (batch.end <= cursor) continue;
          if (batch.base >= highWatermark) break;
          // Kafka answers at least one batch even past maxBytes, so a consumer always progresses.
          if ((batches > 0 || !minOneBatch) && (bytes + batch.size > maxBytes || records >= maxRecords)) {
            if (runStart >= 0) parts.push(chunk.bytes.subarray(runStart, runEnd));
            return done();
          }
          if (runStart < 0) runStart = batch.position;
          runEnd = batch.position + batch.size;
          bytes += batch.size;
          batches++;
          records += batch.records;
          cursor = batch.end;
        }
        if (runStart >= 0) parts.push(chunk.bytes.subarray(runStart, runEnd));
        cursor = Math.max(cursor, segment.end);
      }
    }
    return done();
  }
}
