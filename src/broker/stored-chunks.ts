import {
  type BatchHeader,
  batchRecordsRegion,
  patchBaseOffset,
  readBatchHeader,
  readBatchHeaders,
  verifyBatchCrc,
} from "../log/record-batch.js";
import type { ObjectStore } from "../storage/ports.js";
import { ChunkCache } from "./chunk-cache.js";
import type { SegmentRef } from "./segment-index.js";

/** A stored batch located in its chunk: where it starts, its size, and the offsets it spans. */
export interface LocatedBatch {
  position: number;
  size: number;
  base: number;
  end: number;
  records: number;
}

/** A chunk as stored, its batches given their real base offsets (patched in place). */
export interface StoredChunk {
  key: string;
  bytes: Uint8Array;
  batches: LocatedBatch[];
  /** Per batch: 1 once its CRC was checked (the decoding reader checks each batch once). */
  crcChecked: Uint8Array;
}

/** What a located batch costs beyond its bytes: its LocatedBatch object, roughly. */
const LOCATED_BATCH_BYTES = 64;
/** What a cache entry costs beyond its bytes: the entry, its key, the chunk object. */
const ENTRY_BYTES = 256;

/**
 * The chunks both readers serve from (architecture §4), in one cache under one byte budget: each
 * chunk as the bytes it was stored as (base offsets patched in), and for a compressed batch the
 * decoding reader opened, its inflated records. Both are charged the bytes they hold, so the
 * budget bounds the memory, whatever the records look like; records are decoded per fetch, only
 * as many as the answer takes.
 */
export class StoredChunks {
  private readonly cache: ChunkCache;

  constructor(
    private readonly objects: ObjectStore,
    budgetBytes: number,
  ) {
    this.cache = new ChunkCache(budgetBytes);
  }

  /** A chunk as stored, its batches given consecutive offsets from the segment's base. */
  chunk(segment: SegmentRef): Promise<StoredChunk> {
    return this.cache.get(
      cacheKey(segment),
      chargeFor(segment),
      async () => {
        // Every ObjectStore hands out a fresh buffer, so patching it in place touches nothing shared.
        const bytes = await this.objects.get(segment.key, {
          start: segment.pos,
          end: segment.pos + segment.len,
        });
        return locate(cacheKey(segment), bytes, segment.base);
      },
      charged,
    );
  }

  /**
   * Keeps a chunk this process just committed, so consumers at the tail are served from memory
   * instead of reading back what was written a moment ago (the role of Kafka's page cache).
   */
  remember(segment: SegmentRef, stored: Uint8Array): void {
    const bytes = Uint8Array.prototype.slice.call(stored);
    void this.cache.get(
      cacheKey(segment),
      chargeFor(segment),
      async () => locate(cacheKey(segment), bytes, segment.base),
      charged,
    );
  }

  /**
   * The records of the chunk's batch `index`, for decoding: its CRC checked (once per batch), and
   * a compressed batch inflated, kept in the cache charged its inflated size, so the next fetch
   * does not inflate it again.
   */
  records(chunk: StoredChunk, index: number): { header: BatchHeader; region: Uint8Array } {
    const batch = chunk.batches[index];
    const header = readBatchHeader(chunk.bytes, batch.position);
    if (chunk.crcChecked[index] === 0) {
      verifyBatchCrc(chunk.bytes, batch.position);
      chunk.crcChecked[index] = 1;
    }
    if (header.compression === "none")
      return { header, region: batchRecordsRegion(chunk.bytes, batch.position, header) };
    const key = `${chunk.key}|${index}`;
    const cached = this.cache.peek<Uint8Array>(key);
    if (cached) return { header, region: cached };
    const region = batchRecordsRegion(chunk.bytes, batch.position, header);
    return { header, region: this.cache.put(key, region.length + ENTRY_BYTES, region) };
  }

  /** The records a fetch decoded from the chunk's batch `index` and `keepDecoded` kept, if still there. */
  decoded<R>(chunk: StoredChunk, index: number): R[] | undefined {
    return this.cache.peek<R[]>(`${chunk.key}|records${index}`);
  }

  /**
   * Keeps a batch's decoded records, charged `bytes` (their objects' estimated heap, and the bytes
   * their views hold), so the next fetch of a hot batch takes them instead of decoding again.
   */
  keepDecoded<R>(chunk: StoredChunk, index: number, records: R[], bytes: number): void {
    this.cache.put(`${chunk.key}|records${index}`, bytes + ENTRY_BYTES, records);
  }

  /** The bytes charged now, the budget, and the entries (chunks, inflated and decoded batches) held. */
  stats(): { chargedBytes: number; budgetBytes: number; entries: number } {
    return {
      chargedBytes: this.cache.usedBytes,
      budgetBytes: this.cache.budgetBytes,
      entries: this.cache.size,
    };
  }
}

function cacheKey(segment: SegmentRef): string {
  return `${segment.key}@${segment.pos}+${segment.len}#${segment.base}`;
}

/** A chunk's charge while it loads: its bytes (its batches' bookkeeping is added once they are known). */
function chargeFor(segment: SegmentRef): number {
  return segment.len + ENTRY_BYTES;
}

/** A loaded chunk's charge: its bytes and its located batches. */
function charged(chunk: StoredChunk): number {
  return chunk.bytes.length + ENTRY_BYTES + chunk.batches.length * (LOCATED_BATCH_BYTES + 1);
}

/** Patches the real base offsets into a stored chunk (in place) and notes where each batch is. */
function locate(key: string, bytes: Uint8Array, firstOffset: number): StoredChunk {
  const batches: LocatedBatch[] = [];
  let base = firstOffset;
  let position = 0;
  for (const header of readBatchHeaders(bytes)) {
    patchBaseOffset(bytes, position, base);
    const end = base + header.lastOffsetDelta + 1;
    batches.push({ position, size: header.size, base, end, records: header.recordCount });
    base = end;
    position += header.size;
  }
  return { key, bytes, batches, crcChecked: new Uint8Array(batches.length) };
}
