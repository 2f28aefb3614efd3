/**
 * The body of `POST /v1/records` (src/api/routes/multi-produce-route.ts; the client shares only the
 * contract): per entry a big-endian u16 topic length, the topic (ASCII, as Kafka's names are), a
 * big-endian i32 partition, a big-endian i32 length, then that many bytes of RecordBatch v2.
 */
export const PARTITION_BATCHES_MEDIA_TYPE = "application/vnd.floe.partition-batches.v1";

export interface PartitionBatches {
  topic: string;
  partition: number;
  bytes: Uint8Array;
}

/** An entry's framed size: its header and its batches. */
export function entryBytes(topic: string, batchBytes: number): number {
  return 2 + topic.length + 8 + batchBytes;
}

export function encodePartitionBatches(entries: readonly PartitionBatches[]): Uint8Array {
  let size = 0;
  for (const e of entries) size += entryBytes(e.topic, e.bytes.length);
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const e of entries) {
    body.writeUInt16BE(e.topic.length, at);
    at += 2;
    at += body.write(e.topic, at, "latin1");
    body.writeInt32BE(e.partition, at);
    body.writeInt32BE(e.bytes.length, at + 4);
    at += 8;
    body.set(e.bytes, at);
    at += e.bytes.length;
  }
  return body;
}
