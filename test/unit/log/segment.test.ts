import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { thrown } from "../../support/thrown.js";
import { CorruptDataError, FloeError } from "../../../src/errors.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  decodeBatches,
  encodeRecordBatch,
  type LogRecord,
  readBatchHeaders,
} from "../../../src/log/record-batch.js";
import {
  type ChunkInput,
  decodeFooter,
  decodeSegmentFooter,
  encodeSegment,
  FOOTER_ENTRY_BYTES,
  footerLengthFromTrailer,
  readSegmentTrailer,
  SEGMENT_HEADER_BYTES,
  SEGMENT_TRAILER_BYTES,
} from "../../../src/log/segment.js";
import { logRecords } from "./arbitraries.js";

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

const rec = (value: string, timestamp: number): LogRecord => ({
  key: null,
  value: te.encode(value),
  headers: [],
  timestamp,
});

/** A chunk as the append path builds it: one or more batches for one topic-partition. */
const chunkInput = fc.record({
  topicId: fc.uuid(),
  partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  batches: fc.array(logRecords, { minLength: 1, maxLength: 3 }),
  baseOffset: fc.integer({ min: 0, max: 2 ** 40 }),
});
const chunkInputs = fc.uniqueArray(chunkInput, {
  maxLength: 5,
  selector: (c) => `${c.topicId}/${c.partition}`,
});

const segmentChunks = chunkInputs.map((list) =>
  list.map((c) => ({
    input: {
      topicId: c.topicId,
      partition: c.partition,
      // Batches arrive with arbitrary base offsets; the segment stores them at 0.
      data: concat(c.batches.map((records) => encodeRecordBatch(records, { baseOffset: c.baseOffset }))),
    } satisfies ChunkInput,
    batches: c.batches,
  })),
);

/** Simulates a reader that only range-GETs: the trailer, then the footer, then one chunk. */
function rangeRead(object: Uint8Array) {
  const trailer = object.subarray(object.length - SEGMENT_TRAILER_BYTES);
  const footerLength = footerLengthFromTrailer(trailer);
  const { footerCrc } = readSegmentTrailer(trailer);
  const footerStart = object.length - SEGMENT_TRAILER_BYTES - footerLength;
  const footer = object.slice(footerStart, footerStart + footerLength);
  return decodeFooter(footer, footerCrc, object.length);
}

describe("segment object format", () => {
  it("round-trips random segments with several chunks", () => {
    fc.assert(
      fc.property(segmentChunks, (chunks) => {
        const inputsBefore = chunks.map((c) => c.input.data.slice());
        const { bytes, entries } = encodeSegment(chunks.map((c) => c.input));
        expect(decodeSegmentFooter(bytes)).toEqual(entries);
        expect(rangeRead(bytes)).toEqual(entries);
        expect(bytes.length).toBe(
          SEGMENT_HEADER_BYTES +
            chunks.reduce((n, c) => n + c.input.data.length, 0) +
            4 +
            FOOTER_ENTRY_BYTES * chunks.length +
            SEGMENT_TRAILER_BYTES,
        );
        chunks.forEach((c, i) => {
          const e = entries[i];
          const all = c.batches.flat();
          const ts = all.map((r) => r.timestamp);
          expect(e).toEqual({
            topicId: c.input.topicId,
            partition: c.input.partition,
            position: e.position,
            length: c.input.data.length,
            recordCount: all.length,
            offsetCount: all.length,
            batchCount: c.batches.length,
            minTimestamp: Math.min(...ts),
            maxTimestamp: Math.max(...ts),
          });
          // The chunk is the input's batches, stored at baseOffset 0, and decodes to the records.
          const chunk = bytes.subarray(e.position, e.position + e.length);
          const decoded = decodeBatches(chunk);
          expect(decoded.map((b) => b.baseOffset)).toEqual(c.batches.map(() => 0));
          expect(decoded.map((b) => b.records.map(({ offset: _, ...r }) => r))).toEqual(c.batches);
          // Only the baseOffset fields differ from the input; the input is untouched.
          expect(c.input.data).toEqual(inputsBefore[i]);
          const stripped = (b: Uint8Array) => {
            const copy = b.slice();
            let p = 0;
            for (const h of readBatchHeaders(copy)) {
              copy.fill(0, p, p + 8);
              p += h.size;
            }
            return copy;
          };
          expect(chunk.slice()).toEqual(stripped(c.input.data));
        });
      }),
      { numRuns: 100 },
    );
  });

  it("lays out the header, entries and trailer as documented", () => {
    const topicId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const data = encodeRecordBatch([rec("a", 2000), rec("b", 1000)]);
    const { bytes, entries } = encodeSegment([{ topicId, partition: 3, data }]);
    expect(Buffer.from(bytes.subarray(0, 8)).toString("hex")).toBe("464c4f4501000000"); // "FLOE", 1, 0 0 0
    const footerStart = SEGMENT_HEADER_BYTES + data.length;
    const f = Buffer.from(bytes.subarray(footerStart));
    expect(f.readUInt32BE(0)).toBe(1);
    expect(f.subarray(4, 20).toString("hex")).toBe(topicId.replaceAll("-", ""));
    expect(f.readInt32BE(20)).toBe(3); // partition
    expect(Number(f.readBigInt64BE(24))).toBe(8); // position
    expect(f.readInt32BE(32)).toBe(data.length);
    expect(f.readInt32BE(36)).toBe(2); // records
    expect(f.readInt32BE(40)).toBe(2); // offsets
    expect(f.readInt32BE(44)).toBe(1); // batches
    expect(Number(f.readBigInt64BE(48))).toBe(1000); // min timestamp: the second record's
    expect(Number(f.readBigInt64BE(56))).toBe(2000);
    expect(f.readUInt32BE(64)).toBe(64); // footer length
    expect(f.readUInt32BE(68)).toBe(crc32c(bytes, footerStart, footerStart + 64));
    expect(f.length).toBe(72);
    expect(entries[0]).toMatchObject({ position: 8, minTimestamp: 1000, maxTimestamp: 2000 });
  });

  it("encodes an empty segment, and normalises topic ids to lowercase", () => {
    const empty = encodeSegment([]);
    expect(empty.entries).toEqual([]);
    expect(decodeSegmentFooter(empty.bytes)).toEqual([]);
    const upper = "0F8FAD5B-D9CB-469F-A165-70867728950E";
    const { bytes } = encodeSegment([
      { topicId: upper, partition: 0, data: encodeRecordBatch([rec("x", 1)]) },
    ]);
    expect(decodeSegmentFooter(bytes)[0].topicId).toBe(upper.toLowerCase());
  });

  it("rejects bad input with INVALID_REQUEST, and chunks that are not whole batches as corrupt", () => {
    const data = encodeRecordBatch([rec("x", 1)]);
    const topicId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const invalid = (chunks: ChunkInput[]) => {
      const e = thrown(() => encodeSegment(chunks));
      expect(e).toBeInstanceOf(FloeError);
      expect((e as FloeError).code).toBe("INVALID_REQUEST");
    };
    invalid([
      { topicId, partition: 0, data },
      { topicId, partition: 0, data },
    ]);
    invalid([
      { topicId, partition: 0, data },
      { topicId: topicId.toUpperCase(), partition: 0, data },
    ]);
    invalid([{ topicId: "not-a-uuid", partition: 0, data }]);
    invalid([{ topicId, partition: -1, data }]);
    invalid([{ topicId, partition: 1.5, data }]);
    invalid([{ topicId, partition: 0, data: new Uint8Array(0) }]);
    expect(
      thrown(() => encodeSegment([{ topicId, partition: 0, data: data.subarray(0, -1) }])),
    ).toBeInstanceOf(CorruptDataError);
    expect(
      thrown(() => encodeSegment([{ topicId, partition: 0, data: concat([data, Uint8Array.of(1)]) }])),
    ).toBeInstanceOf(CorruptDataError);
    // Same topic, different partitions, and same partition of different topics are fine.
    const other = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    expect(
      encodeSegment([
        { topicId, partition: 0, data },
        { topicId, partition: 1, data },
        { topicId: other, partition: 0, data },
      ]).entries,
    ).toHaveLength(3);
  });

  it("rejects a footer listing one topic-partition twice, even with a valid CRC", () => {
    const topicId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const data = encodeRecordBatch([rec("x", 1)]);
    const { bytes } = encodeSegment([
      { topicId, partition: 0, data },
      { topicId, partition: 1, data },
    ]);
    const footerStart = SEGMENT_HEADER_BYTES + 2 * data.length;
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    view.setInt32(footerStart + 4 + FOOTER_ENTRY_BYTES + 16, 0); // second entry: partition 1 → 0
    const footerLength = 4 + 2 * FOOTER_ENTRY_BYTES;
    view.setUint32(bytes.length - 4, crc32c(bytes, footerStart, footerStart + footerLength));
    const e = thrown(() => decodeSegmentFooter(bytes));
    expect(e).toBeInstanceOf(CorruptDataError);
    expect((e as Error).message).toMatch(/twice/);
  });

  it("rejects foreign objects and entries pointing outside the chunk area", () => {
    const data = encodeRecordBatch([rec("x", 1)]);
    const { bytes } = encodeSegment([
      { topicId: "0f8fad5b-d9cb-469f-a165-70867728950e", partition: 0, data },
    ]);
    const footerStart = SEGMENT_HEADER_BYTES + data.length;
    const footer = bytes.slice(footerStart, bytes.length - SEGMENT_TRAILER_BYTES);
    const crc = crc32c(footer);
    expect(decodeFooter(footer, crc, bytes.length)).toHaveLength(1);
    expect(decodeFooter(footer, crc)).toHaveLength(1);
    // Claimed object too small for the chunk: the entry would overlap the footer.
    expect(thrown(() => decodeFooter(footer, crc, bytes.length - 1))).toBeInstanceOf(CorruptDataError);
    expect(thrown(() => decodeFooter(footer, crc ^ 1))).toBeInstanceOf(CorruptDataError);
    expect(
      thrown(() => decodeSegmentFooter(new TextEncoder().encode("PK\u0003\u0004 not a segment at all"))),
    ).toBeInstanceOf(CorruptDataError);
    expect(thrown(() => footerLengthFromTrailer(new Uint8Array(7)))).toBeInstanceOf(CorruptDataError);
    expect(thrown(() => footerLengthFromTrailer(Uint8Array.of(0, 0, 0, 5, 0, 0, 0, 0)))).toBeInstanceOf(
      CorruptDataError,
    );
    expect(footerLengthFromTrailer(bytes)).toBe(4 + FOOTER_ENTRY_BYTES); // the last 8 bytes of a longer buffer
  });

  it("throws CorruptDataError for every truncation of an object", () => {
    fc.assert(
      fc.property(segmentChunks, (chunks) => {
        const { bytes } = encodeSegment(chunks.map((c) => c.input));
        for (let n = 0; n < bytes.length; n++) {
          expect(thrown(() => decodeSegmentFooter(bytes.slice(0, n)))).toBeInstanceOf(CorruptDataError);
        }
      }),
      { numRuns: 10 },
    );
  });

  it("catches every single-bit flip: in the header, footer and trailer itself, in chunks through the batch CRCs", () => {
    // The footer CRC covers the footer; the header is checked field by field; the chunks are
    // covered by their batches' CRCs — except, by Kafka's design, baseOffset and
    // partitionLeaderEpoch, which sit outside the batch CRC (Floe stores baseOffset 0 and patches
    // the real one in on read). A flip there shows up as another offset/epoch, never as different
    // record contents.
    const topicA = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const topicB = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    const a = concat([
      encodeRecordBatch([rec("one", 1), rec("two", 2)]),
      encodeRecordBatch([rec("three", 3)]),
    ]);
    const b = encodeRecordBatch([
      { key: te.encode("k"), value: null, headers: [{ key: "h", value: null }], timestamp: 9 },
    ]);
    const { bytes, entries } = encodeSegment([
      { topicId: topicA, partition: 0, data: a },
      { topicId: topicB, partition: 7, data: b },
    ]);
    const batchStarts = entries.flatMap((e) => {
      let p = e.position;
      return readBatchHeaders(bytes.subarray(e.position, e.position + e.length)).map((h) => {
        const start = p;
        p += h.size;
        return start;
      });
    });
    const outsideBatchCrc = (at: number) =>
      batchStarts.some((s) => (at >= s && at < s + 8) || (at >= s + 12 && at < s + 16));
    const originalRecords = entries.map((e) =>
      decodeBatches(bytes.subarray(e.position, e.position + e.length)).map((x) =>
        x.records.map(({ offset: _, ...r }) => r),
      ),
    );
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice();
      const at = bit >> 3;
      flipped[at] ^= 1 << (bit & 7);
      const inChunk = entries.find((e) => at >= e.position && at < e.position + e.length);
      if (!inChunk) {
        expect(thrown(() => decodeSegmentFooter(flipped))).toBeInstanceOf(CorruptDataError);
        continue;
      }
      // The footer still decodes; reading the chunk must fail, or (outside the batch CRC) give the same records.
      expect(decodeSegmentFooter(flipped)).toEqual(entries);
      const chunk = flipped.subarray(inChunk.position, inChunk.position + inChunk.length);
      let decoded: ReturnType<typeof decodeBatches> | undefined;
      const error = thrown(() => {
        decoded = decodeBatches(chunk);
      });
      if (outsideBatchCrc(at)) {
        if (error !== undefined) expect(error).toBeInstanceOf(CorruptDataError);
        else
          expect(decoded!.map((x) => x.records.map(({ offset: _, ...r }) => r))).toEqual(
            originalRecords[entries.indexOf(inChunk)],
          );
      } else {
        expect(error).toBeInstanceOf(CorruptDataError);
      }
    }
  });

  it("reports exact timestamps and offset spans across several batches", () => {
    const topicId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const data = concat([
      encodeRecordBatch([rec("a", 500), rec("b", 100), rec("c", 300)]),
      encodeRecordBatch([rec("d", 900)], { timestampType: "LogAppendTime" }),
    ]);
    const [entry] = encodeSegment([{ topicId, partition: 0, data }]).entries;
    expect(entry).toMatchObject({
      recordCount: 4,
      offsetCount: 4,
      batchCount: 2,
      minTimestamp: 100,
      maxTimestamp: 900,
    });
  });
});
