import { createRequire } from "node:module";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type LogRecord,
  type RecordHeader,
  readBatchHeader,
  verifyBatchCrc,
} from "../../../src/log/record-batch.js";
import { bytesOrNull, logRecords, timestamp } from "./arbitraries.js";

/**
 * Cross-checks the RecordBatch v2 codec against an independent Kafka implementation: KafkaJS's
 * internal protocol encoder and decoder (CommonJS, hence createRequire).
 */
const require = createRequire(import.meta.url);
type KafkaJsHeaders = Record<string, Buffer | Buffer[]>;
interface KafkaJsRecordInput {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: KafkaJsHeaders;
}
interface KafkaJsBatchInput {
  compression?: number;
  firstOffset?: number;
  firstTimestamp: number;
  maxTimestamp: number;
  partitionLeaderEpoch?: number;
  lastOffsetDelta: number;
  producerId?: number;
  producerEpoch?: number;
  firstSequence?: number;
  records: unknown[];
}
interface KafkaJsDecodedRecord {
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}
interface KafkaJsDecodedBatch {
  firstOffset: string;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  records: KafkaJsDecodedRecord[];
}
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (input: KafkaJsBatchInput) => Promise<{ buffer: Buffer }>;
};
const Record = require("kafkajs/src/protocol/recordBatch/record/v0") as (r: KafkaJsRecordInput) => unknown;
const decodeKafkaJsBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (
  decoder: unknown,
) => Promise<KafkaJsDecodedBatch>;
const KafkaJsDecoder = require("kafkajs/src/protocol/decoder") as new (b: Buffer) => unknown;
const { Types: Compression } = require("kafkajs/src/protocol/message/compression") as {
  Types: { None: number; GZIP: number };
};

const buf = (b: Uint8Array | null): Buffer | null => (b === null ? null : Buffer.from(b));

/** How KafkaJS writes a headers object: Object.keys order, arrays expanded in place. */
function flattenKafkaJsHeaders(headers: KafkaJsHeaders): RecordHeader[] {
  return Object.keys(headers).flatMap((key) => {
    const v = headers[key];
    return (Array.isArray(v) ? v : [v]).map((value) => ({ key, value: new Uint8Array(value) }));
  });
}

/** How KafkaJS reads headers into an object: repeated keys collect into arrays. */
function kafkaJsHeaderObject(headers: RecordHeader[]): Record<string, unknown> {
  return headers.reduce<Record<string, unknown>>((obj, { key, value }) => {
    const v = buf(value);
    const prev = obj[key];
    // biome-ignore lint/performance/noAccumulatingSpread: mirrors KafkaJS's decoder, own "__proto__" keys included
    return { ...obj, [key]: prev === undefined ? v : Array.isArray(prev) ? prev.concat([v]) : [prev, v] };
  }, {});
}

async function kafkaJsEncode(
  records: { key: Buffer | null; value: Buffer | null; headers: KafkaJsHeaders; timestamp: number }[],
  fields: {
    baseOffset: number;
    epoch: number;
    producerId: number;
    producerEpoch: number;
    baseSequence: number;
  },
  compression = Compression.None,
): Promise<Uint8Array> {
  const first = records[0].timestamp;
  const batch = await RecordBatch({
    compression,
    firstOffset: fields.baseOffset,
    firstTimestamp: first,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
    partitionLeaderEpoch: fields.epoch,
    lastOffsetDelta: records.length - 1,
    producerId: fields.producerId,
    producerEpoch: fields.producerEpoch,
    firstSequence: fields.baseSequence,
    records: records.map((r, i) =>
      Record({
        offsetDelta: i,
        timestampDelta: r.timestamp - first,
        key: r.key,
        value: r.value,
        headers: r.headers,
      }),
    ),
  });
  return new Uint8Array(batch.buffer);
}

const nonNullBuffer = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b));
const kafkaJsRecord = fc.record({
  key: bytesOrNull.map(buf),
  value: fc.oneof(bytesOrNull, fc.uint8Array({ minLength: 200, maxLength: 1500 })).map(buf),
  // KafkaJS cannot encode a null header value; repeated keys are arrays.
  headers: fc.dictionary(
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.oneof(nonNullBuffer, fc.array(nonNullBuffer, { minLength: 1, maxLength: 3 })),
    { maxKeys: 6 },
  ),
  timestamp,
});
const batchFields = fc.record({
  baseOffset: fc.integer({ min: 0, max: 2 ** 48 }),
  epoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  producerId: fc.integer({ min: -1, max: 2 ** 50 }),
  producerEpoch: fc.integer({ min: -1, max: 32767 }),
  baseSequence: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
});

function expectSameAsKafkaJsInput(
  decoded: ReturnType<typeof decodeRecordBatch>,
  records: { key: Buffer | null; value: Buffer | null; headers: KafkaJsHeaders; timestamp: number }[],
  baseOffset: number,
): void {
  expect(decoded.records).toEqual(
    records.map((r, i) => ({
      offset: baseOffset + i,
      timestamp: r.timestamp,
      key: r.key === null ? null : new Uint8Array(r.key),
      value: r.value === null ? null : new Uint8Array(r.value),
      headers: flattenKafkaJsHeaders(r.headers),
    })),
  );
}

describe("RecordBatch v2 against KafkaJS", () => {
  it("decodes batches encoded by KafkaJS to the same records, with a CRC that verifies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(kafkaJsRecord, { minLength: 1, maxLength: 10 }),
        batchFields,
        async (records, f) => {
          const bytes = await kafkaJsEncode(records, f);
          verifyBatchCrc(bytes);
          const decoded = decodeRecordBatch(bytes);
          expect(decoded.size).toBe(bytes.length);
          expect(decoded).toMatchObject({
            baseOffset: f.baseOffset,
            partitionLeaderEpoch: f.epoch,
            producerId: f.producerId,
            producerEpoch: f.producerEpoch,
            baseSequence: f.baseSequence,
            lastOffsetDelta: records.length - 1,
            recordCount: records.length,
            compression: "none",
          });
          expectSameAsKafkaJsInput(decoded, records, f.baseOffset);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("decodes gzip-compressed batches encoded by KafkaJS", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(kafkaJsRecord, { minLength: 1, maxLength: 10 }),
        batchFields,
        async (records, f) => {
          const bytes = await kafkaJsEncode(records, f, Compression.GZIP);
          const decoded = decodeRecordBatch(bytes);
          expect(decoded.compression).toBe("gzip");
          expect(decoded.attributes & 7).toBe(1);
          expectSameAsKafkaJsInput(decoded, records, f.baseOffset);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("encodes batches KafkaJS decodes to the same records (null header values included)", async () => {
    await fc.assert(
      fc.asyncProperty(logRecords, batchFields, fc.boolean(), async (records, f, logAppendTime) => {
        const bytes = encodeRecordBatch(records, {
          baseOffset: f.baseOffset,
          partitionLeaderEpoch: f.epoch,
          producerId: f.producerId,
          producerEpoch: f.producerEpoch,
          baseSequence: f.baseSequence,
          timestampType: logAppendTime ? "LogAppendTime" : "CreateTime",
        });
        const theirs = await decodeKafkaJsBatch(new KafkaJsDecoder(Buffer.from(bytes)));
        const maxTimestamp = Math.max(...records.map((r) => r.timestamp));
        expect(theirs).toMatchObject({
          firstOffset: String(f.baseOffset),
          partitionLeaderEpoch: f.epoch,
          lastOffsetDelta: records.length - 1,
          producerId: String(f.producerId),
          producerEpoch: f.producerEpoch,
          firstSequence: f.baseSequence,
          maxTimestamp: String(maxTimestamp),
        });
        expect(theirs.records).toHaveLength(records.length);
        theirs.records.forEach((r, i) => {
          expect(r.offset).toBe(String(f.baseOffset + i));
          expect(r.timestamp).toBe(String(logAppendTime ? maxTimestamp : records[i].timestamp));
          expect(r.key).toEqual(buf(records[i].key));
          expect(r.value).toEqual(buf(records[i].value));
          expect(r.headers).toEqual(kafkaJsHeaderObject(records[i].headers));
        });
      }),
      { numRuns: 150 },
    );
  });

  it("writes the very bytes KafkaJS writes for the same batch", async () => {
    // KafkaJS takes headers as an object, so give it distinct, non-numeric keys (object key order
    // is insertion order then) and non-null values: the two encodings must then be identical.
    const record = fc.record({
      key: bytesOrNull,
      value: bytesOrNull,
      headers: fc
        .uniqueArray(fc.string({ unit: "grapheme", maxLength: 6 }), { maxLength: 5 })
        .chain((keys) =>
          fc.tuple(
            ...keys.map((k) => fc.uint8Array({ maxLength: 20 }).map((value) => ({ key: `h${k}`, value }))),
          ),
        ),
      timestamp,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), batchFields, async (records, f) => {
        const ours = encodeRecordBatch(records as LogRecord[], {
          baseOffset: f.baseOffset,
          partitionLeaderEpoch: f.epoch,
          producerId: f.producerId,
          producerEpoch: f.producerEpoch,
          baseSequence: f.baseSequence,
        });
        const theirs = await kafkaJsEncode(
          records.map((r) => ({
            key: buf(r.key),
            value: buf(r.value),
            headers: Object.fromEntries(r.headers.map((h) => [h.key, Buffer.from(h.value)])),
            timestamp: r.timestamp,
          })),
          f,
        );
        expect(Buffer.from(ours).toString("hex")).toBe(Buffer.from(theirs).toString("hex"));
        expect(readBatchHeader(ours).crc).toBe(readBatchHeader(theirs).crc);
      }),
      { numRuns: 150 },
    );
  });
});
