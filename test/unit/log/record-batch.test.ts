import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { thrown, expectThrownCode as expectCode } from "../../support/thrown.js";
import { CorruptDataError } from "../../../src/errors.js";
import { canCompress } from "../../../src/log/compression.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  batchTimestampRange,
  decodeBatches,
  decodeRecordBatch,
  encodeRecordBatch,
  type LogRecord,
  patchBaseOffset,
  patchBaseOffsets,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  readBatchHeaders,
  verifyBatchCrc,
} from "../../../src/log/record-batch.js";
import { logRecord, logRecords } from "./arbitraries.js";

const te = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** Rewrites the CRC after a deliberate edit of the covered bytes. */
function fixCrc(bytes: Uint8Array, position = 0): void {
  const size = 12 + new DataView(bytes.buffer, bytes.byteOffset + position + 8).getInt32(0);
  new DataView(bytes.buffer, bytes.byteOffset + position + 17).setUint32(
    0,
    crc32c(bytes, position + 21, position + size),
  );
}

/** Our uncompressed batch re-packed with its records gzip-compressed (as a Kafka producer would). */
function gzipBatch(records: LogRecord[]): Uint8Array {
  const plain = encodeRecordBatch(records);
  const compressed = gzipSync(plain.subarray(RECORD_BATCH_OVERHEAD));
  const out = concat([plain.subarray(0, RECORD_BATCH_OVERHEAD), compressed]);
  const view = new DataView(out.buffer);
  view.setInt32(8, out.length - 12);
  view.setInt16(21, view.getInt16(21) | 1);
  fixCrc(out);
  return out;
}

function expected(records: LogRecord[], baseOffset = 0) {
  return records.map((r, i) => ({ ...r, offset: baseOffset + i }));
}

const sample: LogRecord[] = [
  {
    key: te.encode("k1"),
    value: te.encode("hello"),
    headers: [{ key: "h", value: te.encode("v") }],
    timestamp: 1_700_000_000_000,
  },
  { key: null, value: null, headers: [], timestamp: 1_700_000_000_005 },
  {
    key: new Uint8Array(0),
    value: new Uint8Array(0),
    headers: [{ key: "ключ🔑", value: null }],
    timestamp: 1_699_999_999_000,
  },
];

describe("encodeRecordBatch / decodeRecordBatch", () => {
  it("round-trips random records, null and empty keys/values, unicode headers and big timestamps", () => {
    fc.assert(
      fc.property(logRecords, fc.integer({ min: 0, max: 2 ** 50 }), (records, baseOffset) => {
        const bytes = encodeRecordBatch(records, { baseOffset });
        const batch = decodeRecordBatch(bytes);
        expect(batch.size).toBe(bytes.length);
        expect(batch.recordCount).toBe(records.length);
        expect(batch.lastOffsetDelta).toBe(records.length - 1);
        expect(batch.baseOffset).toBe(baseOffset);
        expect(batch.records).toEqual(expected(records, baseOffset));
        expect(batch.firstTimestamp).toBe(records[0].timestamp);
        expect(batch.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp)));
      }),
      { numRuns: 300 },
    );
  });

  it("writes the documented header fields", () => {
    const bytes = encodeRecordBatch(sample, {
      baseOffset: 42,
      partitionLeaderEpoch: 7,
      producerId: 123456789012,
      producerEpoch: 3,
      baseSequence: 99,
    });
    const h = readBatchHeader(bytes);
    expect(h).toMatchObject({
      baseOffset: 42,
      batchLength: bytes.length - 12,
      size: bytes.length,
      partitionLeaderEpoch: 7,
      magic: 2,
      attributes: 0,
      compression: "none",
      timestampType: "CreateTime",
      isTransactional: false,
      isControl: false,
      lastOffsetDelta: 2,
      firstTimestamp: 1_700_000_000_000,
      maxTimestamp: 1_700_000_000_005,
      producerId: 123456789012,
      producerEpoch: 3,
      baseSequence: 99,
      recordCount: 3,
    });
    expect(h.crc).toBe(crc32c(bytes, 21));
    // Defaults: offset 0 and "unknown" (-1) for the epoch and the idempotence fields.
    expect(readBatchHeader(encodeRecordBatch(sample))).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
    });
  });

  it("matches a hand-assembled Kafka v2 batch byte for byte", () => {
    const bytes = encodeRecordBatch([
      { key: te.encode("k"), value: te.encode("v"), headers: [], timestamp: 1000 },
    ]);
    const body =
      "0000" + // attributes
      "00000000" + // lastOffsetDelta
      "00000000000003e8" + // baseTimestamp
      "00000000000003e8" + // maxTimestamp
      "ffffffffffffffff" + // producerId
      "ffff" + // producerEpoch
      "ffffffff" + // baseSequence
      "00000001" + // record count
      "10" + // record length 8 (zigzag 16)
      "00" + // attributes
      "00" + // timestampDelta 0
      "00" + // offsetDelta 0
      "02" +
      "6b" + // key length 1, "k"
      "02" +
      "76" + // value length 1, "v"
      "00"; // no headers
    const crc = crc32c(Buffer.from(body, "hex")).toString(16).padStart(8, "0");
    const expectedHex =
      "0000000000000000" + // baseOffset
      (body.length / 2 + 9).toString(16).padStart(8, "0") + // batchLength
      "ffffffff" + // partitionLeaderEpoch
      "02" + // magic
      crc +
      body;
    expect(Buffer.from(bytes).toString("hex")).toBe(expectedHex);
  });

  it("decodes keys, values and header values as zero-copy views of the input", () => {
    const bytes = encodeRecordBatch(sample);
    const { records } = decodeRecordBatch(bytes);
    expect(records[0].key!.buffer).toBe(bytes.buffer);
    expect(records[0].value!.buffer).toBe(bytes.buffer);
    expect(records[0].headers[0].value!.buffer).toBe(bytes.buffer);
  });

  it("decodes a batch at a position inside a larger buffer, and a run of batches", () => {
    fc.assert(
      fc.property(
        fc.array(logRecords, { minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 9 }),
        (runs, prefix) => {
          const batches = runs.map((records) => encodeRecordBatch(records));
          const all = concat([prefix, ...batches]);
          let position = prefix.length;
          for (let i = 0; i < runs.length; i++) {
            const batch = decodeRecordBatch(all, position);
            expect(batch.records).toEqual(expected(runs[i]));
            position += batch.size;
          }
          const run = concat(batches);
          expect(decodeBatches(run).map((b) => b.records)).toEqual(runs.map((r) => expected(r)));
          expect(readBatchHeaders(run).map((h) => h.size)).toEqual(batches.map((b) => b.length));
        },
      ),
      { numRuns: 100 },
    );
    expect(decodeBatches(new Uint8Array(0))).toEqual([]);
  });

  it("reports LogAppendTime batches' maxTimestamp for every record", () => {
    const bytes = encodeRecordBatch(sample, { timestampType: "LogAppendTime" });
    const batch = decodeRecordBatch(bytes);
    expect(batch.timestampType).toBe("LogAppendTime");
    expect(batch.attributes).toBe(8);
    expect(batch.records.map((r) => r.timestamp)).toEqual([
      1_700_000_000_005, 1_700_000_000_005, 1_700_000_000_005,
    ]);
  });

  it("decodes gzip-compressed batches", () => {
    fc.assert(
      fc.property(logRecords, (records) => {
        const bytes = gzipBatch(records);
        const batch = decodeRecordBatch(bytes);
        expect(batch.compression).toBe("gzip");
        expect(batch.records).toEqual(expected(records));
      }),
      { numRuns: 50 },
    );
  });

  it("bounds how far a gzip batch may inflate", () => {
    const bomb: LogRecord[] = [{ key: null, value: new Uint8Array(1 << 20), headers: [], timestamp: 0 }];
    const bytes = gzipBatch(bomb);
    expect(bytes.length).toBeLessThan(4096);
    expectCode(() => decodeRecordBatch(bytes, 0, { maxDecompressedBytes: 1 << 16 }), "MESSAGE_TOO_LARGE");
    expect(decodeRecordBatch(bytes).records[0].value!.length).toBe(1 << 20);
  });

  it("encodes with every codec this Node can write, and decodes the same records", () => {
    const codecs = (["none", "gzip", "snappy", "lz4", "zstd"] as const).filter((c) => canCompress(c));
    fc.assert(
      fc.property(logRecords, fc.constantFrom(...codecs), fc.boolean(), (records, codec, logAppendTime) => {
        const bytes = encodeRecordBatch(records, {
          compression: codec,
          baseOffset: 7,
          producerId: 3,
          producerEpoch: 1,
          baseSequence: 9,
          timestampType: logAppendTime ? "LogAppendTime" : "CreateTime",
        });
        verifyBatchCrc(bytes);
        const batch = decodeRecordBatch(bytes);
        expect(batch).toMatchObject({ compression: codec, baseOffset: 7, producerId: 3, baseSequence: 9 });
        expect(batch.attributes & 7).toBe(["none", "gzip", "snappy", "lz4", "zstd"].indexOf(codec));
        const max = Math.max(...records.map((r) => r.timestamp));
        expect(batch.records).toEqual(
          expected(records, 7).map((r) => (logAppendTime ? { ...r, timestamp: max } : r)),
        );
      }),
      { numRuns: 100 },
    );
    expectCode(
      () => encodeRecordBatch(sample, { compression: "brotli" as "gzip" }),
      "UNSUPPORTED_COMPRESSION_TYPE",
    );
  });

  it("refuses records regions that do not inflate under their codec as corrupt, as unknown codec ids", () => {
    for (const codec of [2, 3, 4]) {
      const bytes = encodeRecordBatch(sample);
      bytes[22] |= codec;
      fixCrc(bytes);
      expect(readBatchHeader(bytes).compression).toBe(["", "", "snappy", "lz4", "zstd"][codec]);
      const e = thrown(() => decodeRecordBatch(bytes));
      expect(e).toBeInstanceOf(CorruptDataError);
      expect((e as Error).message).toMatch(/^record batch at 0 \((snappy|lz4|zstd)\)/);
    }
    for (const codec of [5, 6, 7]) {
      const bytes = encodeRecordBatch(sample);
      bytes[22] |= codec;
      fixCrc(bytes);
      expect(thrown(() => decodeRecordBatch(bytes))).toBeInstanceOf(CorruptDataError);
    }
  });

  it("rejects what it cannot encode with INVALID_RECORD", () => {
    const ok = sample[0];
    expectCode(() => encodeRecordBatch([]), "INVALID_RECORD");
    expectCode(
      () => encodeRecordBatch([{ ...ok, headers: [{ key: "\ud800", value: null }] }]),
      "INVALID_RECORD",
    );
    expectCode(() => encodeRecordBatch([{ ...ok, timestamp: 1.5 }]), "INVALID_RECORD");
    expectCode(() => encodeRecordBatch([{ ...ok, timestamp: -2 }]), "INVALID_RECORD");
    expectCode(
      () => encodeRecordBatch([{ ...ok, value: "text" as unknown as Uint8Array }]),
      "INVALID_RECORD",
    );
    expectCode(() => encodeRecordBatch([{ ...ok, key: [1, 2] as unknown as Uint8Array }]), "INVALID_RECORD");
    expectCode(() => encodeRecordBatch([ok], { baseOffset: -1 }), "INVALID_RECORD");
    expectCode(() => encodeRecordBatch([ok], { producerEpoch: 70000 }), "INVALID_RECORD");
    // A timestamp delta beyond 2^53 (only from timestamps no clock produces).
    expectCode(
      () =>
        encodeRecordBatch([
          { ...ok, timestamp: -1 },
          { ...ok, timestamp: Number.MAX_SAFE_INTEGER },
        ]),
      "INVALID_RECORD",
    );
  });

  it("accepts Buffers as keys and values", () => {
    const records = [{ key: Buffer.from("k"), value: Buffer.from("v"), headers: [], timestamp: 5 }];
    expect(decodeRecordBatch(encodeRecordBatch(records)).records[0].value).toEqual(new Uint8Array([0x76]));
  });
});

describe("corruption", () => {
  it("throws CorruptDataError for every truncation of a batch", () => {
    fc.assert(
      fc.property(logRecords, (records) => {
        const bytes = encodeRecordBatch(records);
        for (let n = 0; n < bytes.length; n++) {
          const cut = bytes.slice(0, n);
          expect(thrown(() => decodeRecordBatch(cut))).toBeInstanceOf(CorruptDataError);
          expect(thrown(() => readBatchHeader(cut))).toBeInstanceOf(CorruptDataError);
          expect(thrown(() => verifyBatchCrc(cut))).toBeInstanceOf(CorruptDataError);
        }
      }),
      { numRuns: 30 },
    );
  });

  it("throws CorruptDataError for a run truncated anywhere but a batch boundary", () => {
    const batches = [
      encodeRecordBatch(sample),
      encodeRecordBatch(sample.slice(1)),
      encodeRecordBatch([sample[0]]),
    ];
    const run = concat(batches);
    const boundaries = new Map<number, number>([[0, 0]]);
    let end = 0;
    batches.forEach((b, i) => {
      end += b.length;
      boundaries.set(end, i + 1);
    });
    for (let n = 0; n <= run.length; n++) {
      const cut = run.slice(0, n);
      const whole = boundaries.get(n);
      if (whole === undefined) expect(thrown(() => decodeBatches(cut))).toBeInstanceOf(CorruptDataError);
      else expect(decodeBatches(cut)).toHaveLength(whole);
    }
  });

  it("catches every single-bit flip, except in the fields Kafka leaves outside the CRC", () => {
    // By Kafka's design the CRC covers attributes..end only: baseOffset (bytes 0-7) is rewritten
    // by the broker on append (Floe patches it on read), and partitionLeaderEpoch (bytes 12-15)
    // is stamped by the leader. A flip there yields the same records at another offset / epoch
    // (or, for the high baseOffset bits, a non-safe or negative offset, which is rejected).
    // Every other flip must be caught: batchLength/magic by validation, the rest by the CRC.
    fc.assert(
      fc.property(logRecords, (records) => {
        const bytes = encodeRecordBatch(records, { baseOffset: 1000, partitionLeaderEpoch: 5 });
        for (let bit = 0; bit < bytes.length * 8; bit++) {
          const flipped = bytes.slice();
          const at = bit >> 3;
          flipped[at] ^= 1 << (bit & 7);
          let batch: ReturnType<typeof decodeRecordBatch> | undefined;
          const error = thrown(() => {
            batch = decodeBatches(flipped)[0];
          });
          if (at < 8) {
            if (error !== undefined) expect(error).toBeInstanceOf(CorruptDataError);
            else {
              expect(batch!.baseOffset).not.toBe(1000);
              expect(batch!.records.map(({ offset: _, ...r }) => r)).toEqual(records);
            }
          } else if (at >= 12 && at < 16) {
            expect(error).toBeUndefined();
            expect(batch!.partitionLeaderEpoch).not.toBe(5);
            expect(batch!.records).toEqual(expected(records, 1000));
          } else {
            expect(error).toBeInstanceOf(CorruptDataError);
          }
        }
      }),
      { numRuns: 15 },
    );
  });

  it("never throws anything but CorruptDataError on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (bytes) => {
        expect(thrown(() => decodeBatches(bytes))).toBeInstanceOf(CorruptDataError);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects trailing garbage after a run of batches", () => {
    const bytes = concat([encodeRecordBatch(sample), Uint8Array.of(0)]);
    expect(thrown(() => decodeBatches(bytes))).toBeInstanceOf(CorruptDataError);
    expect(decodeRecordBatch(bytes).records).toHaveLength(3); // a single batch at 0 is still fine
  });

  it("rejects a foreign magic byte, and a corrupt gzip stream under a valid CRC", () => {
    const v1 = encodeRecordBatch(sample);
    v1[16] = 1;
    expect(thrown(() => readBatchHeader(v1))).toBeInstanceOf(CorruptDataError);
    const gz = gzipBatch(sample);
    gz[gz.length - 12] ^= 0xff;
    fixCrc(gz);
    expect(thrown(() => decodeRecordBatch(gz))).toBeInstanceOf(CorruptDataError);
  });

  it("skips the CRC check only when asked", () => {
    const bytes = encodeRecordBatch(sample);
    bytes[17] ^= 1;
    expect(thrown(() => verifyBatchCrc(bytes))).toBeInstanceOf(CorruptDataError);
    expect(thrown(() => decodeRecordBatch(bytes))).toBeInstanceOf(CorruptDataError);
    expect(decodeRecordBatch(bytes, 0, { verifyCrc: false }).records).toHaveLength(3);
  });
});

describe("base offsets", () => {
  it("patches baseOffset in place without touching the CRC", () => {
    fc.assert(
      fc.property(logRecords, fc.maxSafeNat(), (records, base) => {
        const bytes = encodeRecordBatch(records);
        const before = bytes.slice(8);
        patchBaseOffset(bytes, 0, Math.max(0, base - records.length));
        expect(bytes.slice(8)).toEqual(before);
        verifyBatchCrc(bytes);
        expect(decodeRecordBatch(bytes).records.map((r) => r.offset)).toEqual(
          records.map((_, i) => Math.max(0, base - records.length) + i),
        );
      }),
    );
    expectCode(() => patchBaseOffset(encodeRecordBatch(sample), 0, -1), "INVALID_REQUEST");
    expect(thrown(() => patchBaseOffset(new Uint8Array(10), 0, 1))).toBeInstanceOf(CorruptDataError);
  });

  it("gives a stored run consecutive offsets", () => {
    const run = concat([
      encodeRecordBatch(sample),
      encodeRecordBatch(sample.slice(0, 1)),
      encodeRecordBatch(sample),
    ]);
    expect(patchBaseOffsets(run, 100)).toBe(107);
    expect(decodeBatches(run).flatMap((b) => b.records.map((r) => r.offset))).toEqual([
      100, 101, 102, 103, 104, 105, 106,
    ]);
  });
});

describe("batchTimestampRange", () => {
  it("finds the smallest and largest record timestamps, even out of order", () => {
    fc.assert(
      fc.property(
        logRecords,
        fc.constantFrom("none", "gzip", "snappy", "lz4"),
        fc.boolean(),
        (records, codec, gzip) => {
          const bytes =
            gzip && codec === "gzip"
              ? gzipBatch(records)
              : encodeRecordBatch(records, { compression: codec });
          const ts = records.map((r) => r.timestamp);
          expect(batchTimestampRange(bytes)).toEqual({ min: Math.min(...ts), max: Math.max(...ts) });
        },
      ),
      { numRuns: 100 },
    );
    const appendTime = encodeRecordBatch(sample, { timestampType: "LogAppendTime" });
    expect(batchTimestampRange(appendTime)).toEqual({ min: 1_700_000_000_005, max: 1_700_000_000_005 });
  });

  it("agrees with a full decode for single records", () => {
    fc.assert(
      fc.property(logRecord, (record) => {
        const bytes = encodeRecordBatch([record]);
        expect(batchTimestampRange(bytes)).toEqual({ min: record.timestamp, max: record.timestamp });
      }),
    );
  });
});
