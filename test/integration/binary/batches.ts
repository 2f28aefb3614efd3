/**
 * Building RecordBatch v2 bytes the way a client would, including the malformed and the exotic
 * ones the server must refuse or keep intact.
 */
import { gzipSync } from "node:zlib";
import { crc32c } from "../../../src/log/crc32c.js";
import { encodeRecordBatch, type LogRecord } from "../../../src/log/record-batch.js";

export const RECORD_BATCH = "application/vnd.kafka.record-batch.v2";

const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const PRODUCER_ID_OFFSET = 43;
const RECORDS_OFFSET = 61;

export function records(n: number, prefix = "v", timestamp = 1_700_000_000_000): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`${prefix}${i}`),
    headers: [{ key: "h", value: Buffer.from(`x${i}`) }],
    timestamp: timestamp + i,
  }));
}

export function batch(list: LogRecord[]): Buffer {
  return Buffer.from(encodeRecordBatch(list));
}

function recrc(b: Buffer): Buffer {
  b.writeUInt32BE(crc32c(b, ATTRIBUTES_OFFSET, b.length), CRC_OFFSET);
  return b;
}

/** The batch with one attribute bit set (and a valid CRC over it). */
export function withAttributes(b: Buffer, bits: number): Buffer {
  const copy = Buffer.from(b);
  copy.writeInt16BE(copy.readInt16BE(ATTRIBUTES_OFFSET) | bits, ATTRIBUTES_OFFSET);
  return recrc(copy);
}

export function withProducerId(b: Buffer, id: bigint): Buffer {
  const copy = Buffer.from(b);
  copy.writeBigInt64BE(id, PRODUCER_ID_OFFSET);
  return recrc(copy);
}

/** The same records gzip-compressed, as Kafka's producer writes compression.type=gzip. */
export function gzipped(b: Buffer): Buffer {
  const compressed = gzipSync(b.subarray(RECORDS_OFFSET));
  const out = Buffer.concat([b.subarray(0, RECORDS_OFFSET), compressed]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeInt16BE(out.readInt16BE(ATTRIBUTES_OFFSET) | 1, ATTRIBUTES_OFFSET);
  return recrc(out);
}

/** One bit flipped inside the records: the CRC no longer matches. */
export function corrupted(b: Buffer): Buffer {
  const copy = Buffer.from(b);
  copy[copy.length - 3] ^= 0x40;
  return copy;
}
