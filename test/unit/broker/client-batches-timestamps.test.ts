import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { acceptClientBatches } from "../../../src/broker/client-batches.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  batchTimestampRange,
  type CompressionCodec,
  encodeRecordBatch,
  readBatchHeader,
} from "../../../src/log/record-batch.js";
import { concatBytes as concat } from "../../../src/log/concat-bytes.js";

/**
 * The produce path's validation scan reports the batches' timestamp range (so the segment writer
 * need not inflate and scan them again) and makes each CreateTime batch's maxTimestamp its records'
 * largest, as Kafka's LogValidator does (so ListOffsets may skip a batch on its header).
 */

const T0 = 1_700_000_000_000;

describe("acceptClientBatches' timestamps", () => {
  it("are what batchTimestampRange reads of the stored batches, and every header's maxTimestamp is exact", () => {
    const batch = fc.record({
      timestamps: fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 1, maxLength: 30 }),
      codec: fc.constantFrom<CompressionCodec>("none", "gzip", "snappy", "lz4"),
      // A client's maxTimestamp that understates (or overstates) its records.
      lie: fc.option(fc.integer({ min: -50_000, max: 50_000 }), { freq: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(batch, { minLength: 1, maxLength: 5 }),
        fc.option(fc.integer({ min: 0, max: 100_000 })),
        (specs, appendTime) => {
          const bytes = concat(
            specs.map((s) => {
              const b = encodeRecordBatch(
                s.timestamps.map((t) => ({ key: null, value: null, headers: [], timestamp: T0 + t })),
                { compression: s.codec },
              );
              if (s.lie !== null) {
                const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
                view.setBigInt64(35, BigInt(Math.max(...s.timestamps) + T0 + s.lie));
                view.setUint32(17, crc32c(b, 21, b.length));
              }
              return b;
            }),
          );
          const accepted = acceptClientBatches(
            bytes,
            appendTime === null
              ? { maxBatchBytes: 1 << 20 }
              : { maxBatchBytes: 1 << 20, logAppendTime: T0 + appendTime },
          );
          let min = Number.POSITIVE_INFINITY;
          let max = Number.NEGATIVE_INFINITY;
          for (const stored of accepted.batches) {
            const range = batchTimestampRange(stored, 0);
            if (range === null) throw new Error("empty batch accepted");
            min = Math.min(min, range.min);
            max = Math.max(max, range.max);
            expect(readBatchHeader(stored).maxTimestamp).toBe(range.max);
          }
          expect(accepted.timestamps).toEqual({ min, max });
        },
      ),
      { numRuns: 150 },
    );
  });
});
