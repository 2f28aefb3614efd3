import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import {
  firstAtOrAfterTimestamp,
  listOffsetsStats,
  maxTimestampRecord,
} from "../../../src/broker/list-offsets.js";
import { StoredChunks } from "../../../src/broker/stored-chunks.js";
import type { OffsetSpec } from "../../../src/broker/types.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  type CompressionCodec,
  decodeBatches,
  encodeRecordBatch,
  type LogRecord,
} from "../../../src/log/record-batch.js";
import { createBackend } from "../../../src/storage/backend.js";
import { MemoryObjectStore } from "../../../src/storage/memory-object-store.js";
import { concatBytes as concat } from "../../../src/log/concat-bytes.js";

/**
 * Issue 11, item 3: ListOffsets by timestamp (offsetsForTimes) answers from batch headers and a
 * timestamp scan of one batch, never decoding records, with the answer a full decode gives.
 */

const T0 = 1_700_000_000_000;

function records(timestamps: number[]): LogRecord[] {
  return timestamps.map((timestamp, i) => ({
    key: i % 3 === 0 ? null : Uint8Array.of(i & 0xff),
    value: Uint8Array.of(1, 2, 3),
    headers: i % 5 === 0 ? [{ key: "h", value: null }] : [],
    timestamp,
  }));
}

/** Partition 0 of `topic` answers `spec` with `offset` and `timestamp`. */
async function expectListed(
  b: Broker,
  topic: string,
  spec: OffsetSpec,
  offset: number,
  timestamp: number | null,
): Promise<void> {
  expect(await b.listOffsets(topic, 0, spec)).toEqual({ partition: 0, offset, timestamp });
}

describe("ListOffsets by timestamp", () => {
  it("decodes no record: batch headers skip whole batches, one batch is scanned for timestamps", async () => {
    const b = new Broker(await createBackend({ storage: "memory" }));
    await b.createTopic("times", 1);
    // 10 batches of 1,000 records, timestamps rising by 1 ms; every other batch gzip.
    const batches = Array.from({ length: 10 }, (_, k) =>
      encodeRecordBatch(records(Array.from({ length: 1000 }, (_, i) => T0 + k * 1000 + i)), {
        compression: k % 2 === 0 ? "none" : "gzip",
      }),
    );
    await b.produce({ topic: "times", batches: [{ partition: 0, bytes: concat(batches) }] });
    const scannedBefore = listOffsetsStats.batchesScanned;
    await expectListed(b, "times", { timestamp: T0 + 7_500 }, 7_500, T0 + 7_500);
    await expectListed(b, "times", { timestamp: T0 + 3_999 }, 3_999, T0 + 3_999);
    await expectListed(b, "times", "maxTimestamp", 9_999, T0 + 9_999);
    await expectListed(b, "times", { timestamp: T0 + 10_000 }, 10_000, null);
    // Before: every lookup decoded the whole chunk through the reader.
    expect(b.readStats().batchesDecoded).toBe(0);
    expect(listOffsetsStats.batchesScanned - scannedBefore).toBe(3);
  });

  it("finds a record in a batch whose client-written maxTimestamp understates it (the produce path sets it, as Kafka's LogValidator does)", async () => {
    const b = new Broker(await createBackend({ storage: "memory" }));
    await b.createTopic("liar", 1);
    const batch = encodeRecordBatch(records([T0, T0 + 50, T0 + 10]));
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    view.setBigInt64(35, BigInt(T0)); // maxTimestamp claims T0
    view.setUint32(17, crc32c(batch, 21, batch.length));
    await b.produce({ topic: "liar", batches: [{ partition: 0, bytes: batch }] });
    await expectListed(b, "liar", { timestamp: T0 + 20 }, 1, T0 + 50);
    await expectListed(b, "liar", "maxTimestamp", 1, T0 + 50);
  });

  it("answers as a full decode does, on random batches compressed or not", async () => {
    const codec = fc.constantFrom<CompressionCodec>("none", "gzip", "snappy", "lz4");
    const batch = fc.record({
      timestamps: fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 40 }),
      codec,
      logAppendTime: fc.option(fc.integer({ min: 0, max: 200 }), { freq: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(batch, { minLength: 1, maxLength: 8 }),
        fc.nat(400),
        fc.nat(220),
        fc.nat(400),
        async (specs, fromSeed, t, untilSeed) => {
          const base = 1000;
          const encoded = specs.map((s) =>
            encodeRecordBatch(
              records(s.timestamps.map((x) => T0 + (s.logAppendTime ?? x))),
              s.logAppendTime === null
                ? { compression: s.codec }
                : { compression: s.codec, timestampType: "LogAppendTime" },
            ),
          );
          const stored = concat(encoded);
          const objects = new MemoryObjectStore();
          await objects.put("seg", stored);
          const chunks = new StoredChunks(objects, 64 * 1024 * 1024);
          const count = specs.reduce((n, s) => n + s.timestamps.length, 0);
          const chunk = await chunks.chunk({
            key: "seg",
            pos: 0,
            len: stored.length,
            base,
            end: base + count,
            count,
            minTs: 0,
            maxTs: 0,
          });
          // The decode-based answers, as list-offsets computed them before.
          let offset = base;
          const all = decodeBatches(stored).flatMap((d) =>
            d.records.map((r) => ({ offset: offset++, timestamp: r.timestamp })),
          );
          const from = base + (fromSeed % (count + 1));
          const until = from + (untilSeed % (count + 2));
          const target = T0 + t;
          const expectedFirst = all.find((r) => r.offset >= from && r.timestamp >= target);
          let expectedMax: { offset: number; timestamp: number } | undefined;
          for (const r of all) {
            if (r.offset >= from && r.offset < until && (!expectedMax || r.timestamp > expectedMax.timestamp))
              expectedMax = r;
          }
          expect(firstAtOrAfterTimestamp(chunks, chunk, from, target)).toEqual(expectedFirst);
          expect(maxTimestampRecord(chunks, chunk, from, until)).toEqual(expectedMax);
        },
      ),
      { numRuns: 150 },
    );
  });
});
