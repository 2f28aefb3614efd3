import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CorruptDataError } from "../../../src/errors.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  batchRecordsRegion,
  decodeRecordBatch,
  encodeRecordBatch,
  readBatchHeader,
  readRecords,
  type SizedRecord,
  scanRecords,
} from "../../../src/log/record-batch.js";
import { thrown } from "../../support/thrown.js";
import { logRecords } from "./arbitraries.js";

function fixCrc(bytes: Uint8Array): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(17, crc32c(bytes, 21, bytes.length));
}

function scanned(bytes: Uint8Array): { offsetDelta: number; timestamp: number; size: number }[] {
  const header = readBatchHeader(bytes);
  const out: { offsetDelta: number; timestamp: number; size: number }[] = [];
  scanRecords(batchRecordsRegion(bytes, 0, header), header, 0, (offsetDelta, timestamp, size) =>
    out.push({ offsetDelta, timestamp, size }),
  );
  return out;
}

function read(
  bytes: Uint8Array,
  base: number,
  from: number,
  limit = Number.POSITIVE_INFINITY,
): SizedRecord[] {
  const header = readBatchHeader(bytes);
  const out: SizedRecord[] = [];
  readRecords(batchRecordsRegion(bytes, 0, header), header, 0, base, from, (r) => {
    out.push(r);
    return out.length < limit;
  });
  return out;
}

describe("scanRecords", () => {
  it("sees every record decodeRecordBatch decodes, with its offset delta, timestamp and wire size", () => {
    fc.assert(
      fc.property(logRecords, fc.constantFrom("none", "gzip" as const), (records, compression) => {
        const bytes = encodeRecordBatch(records, { compression });
        const decoded = decodeRecordBatch(bytes).records;
        const seen = scanned(bytes);
        expect(seen.map((s) => [s.offsetDelta, s.timestamp])).toEqual(
          decoded.map((r) => [r.offset, r.timestamp]),
        );
        // The sizes add up to the records region exactly.
        const header = readBatchHeader(bytes);
        expect(seen.reduce((n, s) => n + s.size, 0)).toBe(batchRecordsRegion(bytes, 0, header).length);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses exactly what decodeRecordBatch refuses, both only with CorruptDataError, when the records are garbled under a valid CRC", () => {
    // The CRC catches accidents; this checks the record parsers themselves against hostile input
    // (a client computing a correct CRC over nonsense): only CorruptDataError, or a decode.
    // decodeRecordBatch's own check lives here too, so one property garbles batches for both.
    fc.assert(
      fc.property(
        logRecords,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        (records, edits) => {
          const bytes = encodeRecordBatch(records);
          for (const [where, value] of edits) bytes[57 + (where % (bytes.length - 57))] = value;
          fixCrc(bytes);
          const decodeError = thrown(() => decodeRecordBatch(bytes));
          const scanError = thrown(() => scanned(bytes));
          if (decodeError === undefined) expect(scanError).toBeUndefined();
          else {
            expect(decodeError).toBeInstanceOf(CorruptDataError);
            expect(scanError).toBeInstanceOf(CorruptDataError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("readRecords", () => {
  it("decodes from any offset on, as decodeRecordBatch does, with each record's wire size", () => {
    fc.assert(
      fc.property(logRecords, fc.nat(20), fc.nat(1000), (records, skip, base) => {
        const bytes = encodeRecordBatch(records);
        const decoded = decodeRecordBatch(bytes).records.map((r) => ({ ...r, offset: r.offset + base }));
        const got = read(bytes, base, base + skip);
        expect(got.map(({ size: _, ...r }) => r)).toEqual(decoded.slice(skip));
        expect(got.map((r) => r.size)).toEqual(
          scanned(bytes)
            .map((s) => s.size)
            .slice(skip),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("stops as soon as the taker says so, and reports that it stopped", () => {
    const records = Array.from({ length: 10 }, (_, i) => ({
      key: null,
      value: Uint8Array.of(i),
      headers: [],
      timestamp: 1_700_000_000_000 + i,
    }));
    const bytes = encodeRecordBatch(records);
    const header = readBatchHeader(bytes);
    let taken = 0;
    const whole = readRecords(batchRecordsRegion(bytes, 0, header), header, 0, 100, 103, () => ++taken < 2);
    expect(whole).toBe(false);
    expect(taken).toBe(2);
    expect(read(bytes, 100, 103, 2).map((r) => r.offset)).toEqual([103, 104]);
  });

  it("counts a tombstone at its wire size (framing only), never as free", () => {
    const bytes = encodeRecordBatch([{ key: null, value: null, headers: [], timestamp: 0 }]);
    const [record] = read(bytes, 0, 0);
    // length, attributes, timestamp delta, offset delta, key -1, value -1, header count: a byte each
    expect(record.size).toBe(7);
  });
});
