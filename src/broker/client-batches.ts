import { CorruptDataError, FloeError } from "../errors.js";
import { crc32c } from "../log/crc32c.js";
import {
  type BatchHeader,
  batchRecordsRegion,
  nextSequence,
  readBatchHeader,
  scanRecords,
  verifyBatchCrc,
} from "../log/record-batch.js";

/**
 * The most record bytes one produce request may inflate from compressed batches, across all its
 * batches and partitions: 64 MiB. Kafka bounds only the compressed batch (max.message.bytes) and
 * has no such limit; Floe inflates a client's batches to check their records before storing
 * them, so without it a 4 MiB body of gzip could claim gigabytes, or millions of tiny records.
 * Past it the request is refused with MESSAGE_TOO_LARGE and appends nothing.
 */
export const MAX_INFLATED_BYTES_PER_REQUEST = 64 * 1024 * 1024;

/** What is left of a request's inflation allowance; one object shared by all the request's batches. */
export interface InflateBudget {
  left: number;
}

export function inflateBudget(bytes = MAX_INFLATED_BYTES_PER_REQUEST): InflateBudget {
  return { left: bytes };
}

/** What a topic allows of a client-encoded batch. */
export interface ClientBatchRules {
  /** The topic's max.message.bytes: the largest whole batch accepted. */
  maxBatchBytes: number;
  /**
   * Set for a `message.timestamp.type=LogAppendTime` topic: the append time to stamp into every
   * batch (the batches are rewritten in place, as Kafka's broker does).
   */
  logAppendTime?: number;
  /** The request's allowance for inflating compressed batches (default: a fresh 64 MiB). */
  inflate?: InflateBudget;
}

export interface AcceptedBatches {
  /** One view per batch, in order, sharing the input's memory. */
  batches: Uint8Array[];
  /** Records in all of them; each batch is dense, so also the offsets they take. */
  records: number;
  /**
   * The smallest and largest record timestamps of all the batches as stored (after any
   * LogAppendTime stamping), as `batchTimestampRange` would read them: found by the validation
   * scan, so the segment writer need not inflate and scan the batches again.
   */
  timestamps: { min: number; max: number };
  /** Set when the batches come from an idempotent producer: its id, epoch and first sequence. */
  producer?: { producerId: number; producerEpoch: number; firstSequence: number };
}

/** The batch fields a LogAppendTime rewrite touches (Kafka's RecordBatch v2 layout). */
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const MAX_TIMESTAMP_OFFSET = 35;
const TIMESTAMP_TYPE_BIT = 0x08;

/** A client's bytes that are not what they claim: the client's fault, so 400, not the 500 of a bad stored segment. */
function corrupt(position: number, cause: unknown): FloeError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new FloeError(
    "CORRUPT_MESSAGE",
    `The record batch at byte ${position} of the request is corrupt: ${why}`,
    {
      cause,
    },
  );
}

function invalid(position: number, why: string): FloeError {
  return new FloeError("INVALID_RECORD", `The record batch at byte ${position} of the request ${why}.`);
}

/**
 * Checks client-encoded RecordBatch v2 bytes the way Kafka's broker does before it appends them
 * (LogValidator): whole batches of magic 2 whose CRC matches, none over max.message.bytes, dense
 * (records = lastOffsetDelta + 1, offset deltas 0..n-1), no control or transactional batches, no
 * idempotent-producer fields that disagree, and records that decode — compressed ones (gzip,
 * snappy, lz4, zstd) inflated for that, within the decoder's bound on inflated size, so a
 * compression bomb is refused as MESSAGE_TOO_LARGE and a frame that does not inflate as
 * CORRUPT_MESSAGE. A refused request appends nothing. The bytes are then stored as they are, still
 * compressed; only a LogAppendTime topic changes them (see `stampLogAppendTime`).
 */
export function acceptClientBatches(bytes: Uint8Array, rules: ClientBatchRules): AcceptedBatches {
  if (bytes.length === 0) {
    throw new FloeError("INVALID_REQUEST", "The request body holds no record batch.");
  }
  const batches: Uint8Array[] = [];
  const budget = rules.inflate ?? inflateBudget();
  let records = 0;
  let position = 0;
  let producer: AcceptedBatches["producer"];
  let minTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  while (position < bytes.length) {
    let header: BatchHeader;
    try {
      header = readBatchHeader(bytes, position);
    } catch (e) {
      throw e instanceof CorruptDataError ? corrupt(position, e) : e;
    }
    // Size first: an oversized batch is refused as too large, whatever else is wrong with it.
    if (header.size > rules.maxBatchBytes) {
      throw new FloeError(
        "RECORD_TOO_LARGE",
        `The record batch at byte ${position} is ${header.size} bytes, larger than max.message.bytes (${rules.maxBatchBytes}); nothing was appended.`,
      );
    }
    try {
      verifyBatchCrc(bytes, position);
    } catch (e) {
      throw e instanceof CorruptDataError ? corrupt(position, e) : e;
    }
    if (header.isControl) throw invalid(position, "is a control batch, which only a broker may write");
    if (header.isTransactional) throw invalid(position, "is transactional; Floe has no transactions");
    producer = checkProducerFields(header, position, producer, batches.length === 0, records);
    if (header.recordCount < 1 || header.recordCount !== header.lastOffsetDelta + 1) {
      throw invalid(
        position,
        `has ${header.recordCount} records for lastOffsetDelta ${header.lastOffsetDelta}; a producer's batch is dense and not empty`,
      );
    }
    if (header.timestampType === "LogAppendTime" && rules.logAppendTime === undefined) {
      throw invalid(
        position,
        "claims LogAppendTime on a CreateTime topic; only the broker stamps append time",
      );
    }
    const range = checkRecords(bytes, position, header, budget);
    const batch = bytes.subarray(position, position + header.size);
    if (rules.logAppendTime !== undefined) {
      stampLogAppendTime(batch, rules.logAppendTime);
      // Decoders report the append time for every record of a stamped batch.
      range.min = rules.logAppendTime;
      range.max = rules.logAppendTime;
    } else if (header.maxTimestamp !== range.max) setMaxTimestamp(batch, range.max);
    if (range.min < minTimestamp) minTimestamp = range.min;
    if (range.max > maxTimestamp) maxTimestamp = range.max;
    batches.push(batch);
    records += header.recordCount;
    position += header.size;
  }
  const timestamps = { min: minTimestamp, max: maxTimestamp };
  return producer ? { batches, records, timestamps, producer } : { batches, records, timestamps };
}

/**
 * Idempotent-producer fields (KIP-98): every batch of one request carries the same producer id and
 * epoch, or none does (-1), and their sequences follow each other, so the request is one run of
 * sequences the commit checks as a whole.
 */
function checkProducerFields(
  header: BatchHeader,
  position: number,
  producer: AcceptedBatches["producer"],
  first: boolean,
  recordsBefore: number,
): AcceptedBatches["producer"] {
  const idempotent = header.producerId !== -1;
  if (first) {
    if (!idempotent) return undefined;
    if (header.producerId < 0 || header.producerEpoch < 0 || header.baseSequence < 0) {
      throw invalid(
        position,
        `carries producerId ${header.producerId}, epoch ${header.producerEpoch}, sequence ${header.baseSequence}; an idempotent batch needs all three >= 0`,
      );
    }
    return {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      firstSequence: header.baseSequence,
    };
  }
  if (!producer) {
    if (idempotent) throw invalid(position, "carries a producerId while the batches before it do not");
    return undefined;
  }
  if (header.producerId !== producer.producerId || header.producerEpoch !== producer.producerEpoch) {
    throw invalid(position, "carries another producer id or epoch than the batches before it");
  }
  const expected = nextSequence(producer.firstSequence, recordsBefore);
  if (header.baseSequence !== expected) {
    throw new FloeError(
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
      `The record batch at byte ${position} has sequence ${header.baseSequence}; following the batches before it, it must be ${expected}.`,
    );
  }
  return producer;
}

/**
 * Walks the records once (inflating a compressed batch within what is left of the request's
 * allowance), so bytes that pass the CRC but are not records (a client's CRC over garbage) are
 * refused here rather than failing every later fetch. Nothing is materialised per record. Returns
 * the records' smallest and largest timestamps.
 */
function checkRecords(
  bytes: Uint8Array,
  position: number,
  header: BatchHeader,
  budget: InflateBudget,
): { min: number; max: number } {
  try {
    let region: Uint8Array;
    try {
      region = batchRecordsRegion(bytes, position, header, budget.left);
    } catch (e) {
      if (e instanceof FloeError && e.code === "MESSAGE_TOO_LARGE") {
        throw new FloeError(
          "MESSAGE_TOO_LARGE",
          `The record batch at byte ${position} inflates beyond what is left of the ${MAX_INFLATED_BYTES_PER_REQUEST} bytes one request may inflate (${budget.left}); nothing was appended.`,
          { cause: e },
        );
      }
      throw e;
    }
    if (header.compression !== "none") budget.left -= region.length;
    let offsetDeltaExpected = 0;
    let minTimestamp = Number.POSITIVE_INFINITY;
    let maxTimestamp = Number.NEGATIVE_INFINITY;
    scanRecords(region, header, position, (offsetDelta, timestamp) => {
      if (offsetDelta !== offsetDeltaExpected) {
        throw invalid(position, `has record ${offsetDeltaExpected} at offset delta ${offsetDelta}`);
      }
      if (timestamp < 0) {
        throw invalid(
          position,
          `has record ${offsetDeltaExpected} with timestamp ${timestamp}; timestamps are ms since the epoch`,
        );
      }
      if (timestamp < minTimestamp) minTimestamp = timestamp;
      if (timestamp > maxTimestamp) maxTimestamp = timestamp;
      offsetDeltaExpected++;
    });
    return { min: minTimestamp, max: maxTimestamp };
  } catch (e) {
    throw e instanceof CorruptDataError ? corrupt(position, e) : e;
  }
}

/**
 * Kafka's LogValidator sets a CreateTime batch's maxTimestamp to its records' largest (in place,
 * CRC recomputed; a batch whose header already says so is left byte for byte as sent), so a
 * timestamp lookup may skip a batch on its header alone (ListOffsets, LogSegment.findOffsetByTimestamp).
 */
function setMaxTimestamp(batch: Uint8Array, maxTimestamp: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setBigInt64(MAX_TIMESTAMP_OFFSET, BigInt(maxTimestamp));
  view.setUint32(CRC_OFFSET, crc32c(batch, ATTRIBUTES_OFFSET, batch.length));
}

/**
 * Kafka's in-place LogAppendTime assignment: set the timestamp-type attribute bit and maxTimestamp
 * to the append time, then recompute the CRC (both fields are covered by it). Decoders then report
 * the append time for every record. The records themselves are not re-encoded.
 */
export function stampLogAppendTime(batch: Uint8Array, appendTime: number): void {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setInt16(ATTRIBUTES_OFFSET, view.getInt16(ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_BIT);
  view.setBigInt64(MAX_TIMESTAMP_OFFSET, BigInt(appendTime));
  view.setUint32(CRC_OFFSET, crc32c(batch, ATTRIBUTES_OFFSET, batch.length));
}
