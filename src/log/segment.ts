import { CorruptDataError, FloeError } from "../errors.js";
import { ByteReader } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { crc32c } from "./crc32c.js";
import { batchTimestampRange, readBatchHeaders } from "./record-batch.js";
import { isUuid, readUuid, writeUuid } from "./uuid.js";

/**
 * The segment object format (architecture §2): one immutable object holding one chunk per
 * topic-partition, each chunk a run of Kafka RecordBatch v2 stored at baseOffset 0.
 *
 * ```
 *  header   "FLOE" (4) · format version u8 = 1 · 3 reserved zero bytes            8 bytes
 *  chunks   chunk 0 · chunk 1 · …                                                  (batches)
 *  footer   entry count u32 · entries (60 bytes each, in chunk order):
 *             topicId 16 raw uuid bytes · partition i32 · position i64 · length i32 ·
 *             recordCount i32 · offsetCount i32 · batchCount i32 ·
 *             minTimestamp i64 · maxTimestamp i64
 *  trailer  footer length u32 · CRC-32C of the footer u32                          8 bytes
 * ```
 *
 * All integers big-endian, like Kafka's. A reader that knows only the object's size range-GETs the
 * last 8 bytes (`footerLengthFromTrailer`), then the footer (`decodeFooter`), then exactly the
 * chunks it needs. The footer is CRC-protected here; the chunks' data by the batches' own CRCs.
 * Objects are self-describing: the metadata index can be rebuilt from the bucket alone.
 */

export interface ChunkInput {
  /** The topic's id (a UUID string; decoded back in lowercase canonical form). */
  topicId: string;
  partition: number;
  /** One or more concatenated record batches. */
  data: Uint8Array;
  /**
   * The batches' smallest and largest record timestamps, when the caller already scanned them (the
   * produce path's validation does): taken as given instead of inflating and scanning the batches
   * again. Must be what `batchTimestampRange` reads.
   */
  timestamps?: { min: number; max: number };
}

export interface ChunkEntry {
  topicId: string;
  partition: number;
  /** Byte position of the chunk within the object. */
  position: number;
  /** Byte length of the chunk. */
  length: number;
  /** Records in the chunk (sum of the batches' record counts). */
  recordCount: number;
  /**
   * Offsets the chunk spans: sum over batches of lastOffsetDelta + 1. Equals recordCount for
   * batches fresh from a producer; larger once compaction leaves gaps.
   */
  offsetCount: number;
  batchCount: number;
  /** Smallest record timestamp, -1 when the chunk holds no records. */
  minTimestamp: number;
  /** Largest record timestamp, -1 when the chunk holds no records. */
  maxTimestamp: number;
}

export const SEGMENT_MAGIC = new Uint8Array([0x46, 0x4c, 0x4f, 0x45]); // "FLOE"
export const SEGMENT_FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 8;
export const SEGMENT_TRAILER_BYTES = 8;
export const FOOTER_ENTRY_BYTES = 60;
/** A footer longer than this (about 1M entries) is not one Floe wrote. */
export const MAX_FOOTER_BYTES = 4 + FOOTER_ENTRY_BYTES * (1 << 20);

const INT32_MAX = 0x7fffffff;

function invalidRequest(message: string): FloeError {
  return new FloeError("INVALID_REQUEST", message);
}

function chunkKey(topicId: string, partition: number): string {
  return `${topicId.toLowerCase()}/${partition}`;
}

/**
 * Builds a segment object from `chunks` (in the given order). Each chunk's data must be a whole
 * run of record batches; its counts and timestamps are read from the batches. The data is copied
 * into the object with every batch's baseOffset set to 0 (the inputs are not modified); CRCs are
 * not checked here (check client-supplied batches with `verifyBatchCrc` before).
 */
export function encodeSegment(chunks: ChunkInput[]): { bytes: Uint8Array; entries: ChunkEntry[] } {
  const seen = new Set<string>();
  const entries: ChunkEntry[] = [];
  const batchSizes: number[][] = [];
  let position = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < chunks.length; i++) {
    const { topicId, partition, data, timestamps } = chunks[i];
    if (!isUuid(topicId)) throw invalidRequest(`chunk ${i}: topicId is not a UUID: ${String(topicId)}`);
    if (!Number.isInteger(partition) || partition < 0 || partition > INT32_MAX) {
      throw invalidRequest(`chunk ${i}: invalid partition ${partition}`);
    }
    const key = chunkKey(topicId, partition);
    if (seen.has(key)) throw invalidRequest(`chunk ${i}: ${topicId} partition ${partition} appears twice`);
    seen.add(key);
    if (!(data instanceof Uint8Array) || data.length === 0)
      throw invalidRequest(`chunk ${i}: no record batches`);
    if (data.length > INT32_MAX) throw invalidRequest(`chunk ${i}: larger than 2 GiB`);
    let recordCount = 0;
    let offsetCount = 0;
    let minTimestamp = Number.POSITIVE_INFINITY;
    let maxTimestamp = Number.NEGATIVE_INFINITY;
    let batchPosition = 0;
    const headers = readBatchHeaders(data);
    for (const header of headers) {
      recordCount += header.recordCount;
      offsetCount += header.lastOffsetDelta + 1;
      const range = timestamps === undefined ? batchTimestampRange(data, batchPosition, header) : null;
      if (range !== null) {
        if (range.min < minTimestamp) minTimestamp = range.min;
        if (range.max > maxTimestamp) maxTimestamp = range.max;
      }
      batchPosition += header.size;
    }
    if (recordCount > INT32_MAX || offsetCount > INT32_MAX)
      throw invalidRequest(`chunk ${i}: too many records`);
    if (timestamps !== undefined) {
      minTimestamp = timestamps.min;
      maxTimestamp = timestamps.max;
    }
    batchSizes.push(headers.map((h) => h.size));
    entries.push({
      topicId: topicId.toLowerCase(),
      partition,
      position,
      length: data.length,
      recordCount,
      offsetCount,
      batchCount: headers.length,
      minTimestamp: recordCount === 0 ? -1 : minTimestamp,
      maxTimestamp: recordCount === 0 ? -1 : maxTimestamp,
    });
    position += data.length;
  }

  const footerLength = 4 + FOOTER_ENTRY_BYTES * entries.length;
  const total = position + footerLength + SEGMENT_TRAILER_BYTES;
  const w = new ByteWriter(total);
  w.bytes(SEGMENT_MAGIC).uint8(SEGMENT_FORMAT_VERSION).uint8(0).uint8(0).uint8(0);
  for (let i = 0; i < chunks.length; i++) {
    const start = w.position;
    w.bytes(chunks[i].data);
    // Stored batches carry baseOffset 0: the index holds the real one (outside the CRC).
    let p = start;
    for (const size of batchSizes[i]) {
      w.buffer.fill(0, p, p + 8);
      p += size;
    }
  }
  const footerStart = w.position;
  w.uint32(entries.length);
  for (const entry of entries) {
    w.ensure(16);
    writeUuid(entry.topicId, w.buffer, w.position);
    w.position += 16;
    w.int32(entry.partition);
    w.int64(entry.position);
    w.int32(entry.length);
    w.int32(entry.recordCount);
    w.int32(entry.offsetCount);
    w.int32(entry.batchCount);
    w.int64(entry.minTimestamp);
    w.int64(entry.maxTimestamp);
  }
  w.uint32(footerLength);
  w.uint32(crc32c(w.buffer, footerStart, footerStart + footerLength));
  if (w.position !== total) throw new Error(`segment size mismatch: wrote ${w.position}, sized ${total}`);
  return { bytes: w.finish(), entries };
}

/** The footer's length and CRC from the object's last 8 bytes. */
export function readSegmentTrailer(trailer: Uint8Array): { footerLength: number; footerCrc: number } {
  if (trailer.length < SEGMENT_TRAILER_BYTES) {
    throw new CorruptDataError(`segment trailer needs ${SEGMENT_TRAILER_BYTES} bytes, got ${trailer.length}`);
  }
  const r = new ByteReader(trailer, trailer.length - SEGMENT_TRAILER_BYTES);
  const footerLength = r.uint32("footer length");
  const footerCrc = r.uint32("footer crc");
  if (footerLength < 4 || footerLength > MAX_FOOTER_BYTES || (footerLength - 4) % FOOTER_ENTRY_BYTES !== 0) {
    throw new CorruptDataError(`implausible segment footer length ${footerLength}`);
  }
  return { footerLength, footerCrc };
}

/**
 * The footer length from the object's last 8 bytes (a longer buffer: its last 8 bytes), so a
 * reader can range-GET `bytes=-8`, then `bytes=-(footerLength + 8)`.
 */
export function footerLengthFromTrailer(trailer8: Uint8Array): number {
  return readSegmentTrailer(trailer8).footerLength;
}

/**
 * Decodes footer bytes (exactly `footerLength` of them) checked against `expectedCrc` from the
 * trailer. With `objectSize`, also checks every chunk lies between the header and the footer.
 */
export function decodeFooter(footer: Uint8Array, expectedCrc: number, objectSize?: number): ChunkEntry[] {
  const actual = crc32c(footer);
  if (actual !== expectedCrc) {
    throw new CorruptDataError(
      `segment footer CRC mismatch (stored ${expectedCrc.toString(16)}, computed ${actual.toString(16)})`,
    );
  }
  const r = new ByteReader(footer);
  const count = r.uint32("footer entry count");
  if (footer.length !== 4 + count * FOOTER_ENTRY_BYTES) {
    throw new CorruptDataError(`segment footer of ${footer.length} bytes cannot hold ${count} entries`);
  }
  const chunksEnd =
    objectSize === undefined ? Number.MAX_SAFE_INTEGER : objectSize - SEGMENT_TRAILER_BYTES - footer.length;
  if (chunksEnd < SEGMENT_HEADER_BYTES)
    throw new CorruptDataError(`segment of ${objectSize} bytes is too small`);
  const entries: ChunkEntry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const topicId = readUuid(footer, r.position);
    r.skip(16);
    const entry: ChunkEntry = {
      topicId,
      partition: r.int32("partition"),
      position: r.int64("position"),
      length: r.int32("length"),
      recordCount: r.int32("recordCount"),
      offsetCount: r.int32("offsetCount"),
      batchCount: r.int32("batchCount"),
      minTimestamp: r.int64("minTimestamp"),
      maxTimestamp: r.int64("maxTimestamp"),
    };
    const bad =
      entry.partition < 0 ||
      entry.position < SEGMENT_HEADER_BYTES ||
      entry.length <= 0 ||
      entry.position + entry.length > chunksEnd ||
      entry.batchCount <= 0 ||
      entry.recordCount < 0 ||
      entry.offsetCount < entry.recordCount ||
      entry.offsetCount < entry.batchCount ||
      entry.minTimestamp > entry.maxTimestamp;
    if (bad) throw new CorruptDataError(`segment footer entry ${i} is inconsistent`);
    const key = chunkKey(topicId, entry.partition);
    if (seen.has(key))
      throw new CorruptDataError(`segment footer lists ${topicId} partition ${entry.partition} twice`);
    seen.add(key);
    entries.push(entry);
  }
  const byPosition = [...entries].sort((a, b) => a.position - b.position);
  for (let i = 1; i < byPosition.length; i++) {
    const previous = byPosition[i - 1];
    if (previous.position + previous.length > byPosition[i].position) {
      throw new CorruptDataError("segment footer entries overlap");
    }
  }
  return entries;
}

/** Validates a whole segment object's header, trailer and footer; returns the chunk entries. */
export function decodeSegmentFooter(objectBytes: Uint8Array): ChunkEntry[] {
  const size = objectBytes.length;
  if (size < SEGMENT_HEADER_BYTES + 4 + SEGMENT_TRAILER_BYTES) {
    throw new CorruptDataError(`segment of ${size} bytes is too small`);
  }
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (objectBytes[i] !== SEGMENT_MAGIC[i]) throw new CorruptDataError("not a Floe segment (bad magic)");
  }
  const version = objectBytes[4];
  if (version !== SEGMENT_FORMAT_VERSION)
    throw new CorruptDataError(`unsupported segment format version ${version}`);
  if (objectBytes[5] !== 0 || objectBytes[6] !== 0 || objectBytes[7] !== 0) {
    throw new CorruptDataError("segment header reserved bytes are not zero");
  }
  const { footerLength, footerCrc } = readSegmentTrailer(objectBytes);
  const footerStart = size - SEGMENT_TRAILER_BYTES - footerLength;
  if (footerStart < SEGMENT_HEADER_BYTES) {
    throw new CorruptDataError(`segment footer length ${footerLength} exceeds the object`);
  }
  return decodeFooter(objectBytes.subarray(footerStart, footerStart + footerLength), footerCrc, size);
}
