import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as zstdWasm from "@bokuweb/zstd-wasm";
import { createRecordsBatch, type MessageRecord, Reader, readRecordsBatch } from "@platformatic/kafka";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { canCompress, type CompressionCodec } from "../../../src/log/compression.js";
import { crc32c } from "../../../src/log/crc32c.js";
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type LogRecord,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  verifyBatchCrc,
} from "../../../src/log/record-batch.js";
import { logRecords } from "./arbitraries.js";

/**
 * Compressed batches from producers that are not Floe, decoded by Floe; and Floe's compressed
 * batches decoded by them:
 * - Kafka's own Java client (kafka-clients 4.4.0 with snappy-java, lz4-java and zstd-jni): batches
 *   it built, committed in fixtures/java-producer-batches.json (see JavaProducerBatches.java there);
 * - librdkafka 2.0.2 (kcat): batches it sent to floe dev, in fixtures/librdkafka-producer-batches.json;
 * - @platformatic/kafka, whose snappy and lz4 are Rust codecs compiled to WASM (raw snappy, LZ4
 *   frames), building batches here;
 * - KafkaJS with kafkajs-snappy, its snappy codec;
 * - libzstd itself (@bokuweb/zstd-wasm) for zstd frames, in a batch framed by hand here.
 */
const require = createRequire(import.meta.url);
const SnappyCodec = require("kafkajs-snappy") as () => unknown;
const kafkaJsCompression = require("kafkajs/src/protocol/message/compression") as {
  Types: Record<string, number>;
  Codecs: Record<number, () => unknown>;
};
const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0") as {
  RecordBatch: (input: unknown) => Promise<{ buffer: Buffer }>;
};
const KafkaJsRecord = require("kafkajs/src/protocol/recordBatch/record/v0") as (r: unknown) => unknown;
const decodeKafkaJsBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder") as (
  decoder: unknown,
) => Promise<{ records: { key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }[] }>;
const KafkaJsDecoder = require("kafkajs/src/protocol/decoder") as new (b: Buffer) => unknown;
// KafkaJS registers codecs by mutating its table, as an application does.
kafkaJsCompression.Codecs[kafkaJsCompression.Types.Snappy] = SnappyCodec;

const te = new TextEncoder();
const td = new TextDecoder();
const java = JSON.parse(
  readFileSync(new URL("./fixtures/java-producer-batches.json", import.meta.url), "utf8"),
) as Record<CompressionCodec, { small: string; large: string }>;

beforeAll(async () => {
  await zstdWasm.init();
});

/** The records JavaProducerBatches.java writes: record(i) there. */
function javaRecord(i: number) {
  const tiers = ["free", "pro", "enterprise"];
  const value =
    i % 11 === 10
      ? null
      : `{"id":${i},"user":"user-${i % 97}","tier":"${tiers[i % 3]}","amount":${(i * 37) % 1000},"note":"${"lorem ipsum ".repeat(1 + (i % 7))}"}`;
  return {
    offset: i,
    timestamp: 1_700_000_000_000 + i * 7,
    key: i % 5 === 4 ? null : `key-${i % 13}`,
    value,
    headers:
      i % 3 === 0
        ? []
        : [
            { key: "trace", value: `t-${i}` },
            { key: "source", value: i % 2 === 0 ? null : "java" },
          ],
  };
}

const text = (b: Uint8Array | null) => (b === null ? null : td.decode(b));

describe("compressed batches from Kafka's Java producer", () => {
  it.each(["gzip", "snappy", "lz4", "zstd"] as const)(
    "decodes %s batches to the records it was given",
    (codec) => {
      for (const [size, count] of [
        ["small", 3],
        ["large", 800],
      ] as const) {
        const bytes = new Uint8Array(Buffer.from(java[codec][size], "base64"));
        verifyBatchCrc(bytes);
        const batch = decodeRecordBatch(bytes);
        expect(batch.compression).toBe(codec);
        expect(
          batch.records.map((r) => ({
            offset: r.offset,
            timestamp: r.timestamp,
            key: text(r.key),
            value: text(r.value),
            headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
          })),
        ).toEqual(Array.from({ length: count }, (_, i) => javaRecord(i)));
      }
    },
  );

  it("frames them as documented: xerial snappy, lz4 of independent 64 KiB blocks, zstd of undeclared size", () => {
    const region = (codec: CompressionCodec) =>
      Buffer.from(java[codec].large, "base64").subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 8);
    expect(region("snappy").toString("hex")).toBe("82534e4150505900");
    expect(region("lz4").subarray(0, 7).toString("hex")).toBe("04224d18604082");
    // zstd magic, then a frame header descriptor with no declared content size (zstd-jni streams).
    expect(region("zstd").subarray(0, 5).toString("hex")).toBe("28b52ffd00");
  });
});

describe("compressed batches from librdkafka (kcat)", () => {
  const librdkafka = JSON.parse(
    readFileSync(new URL("./fixtures/librdkafka-producer-batches.json", import.meta.url), "utf8"),
  ) as Record<CompressionCodec, string>;

  it.each(["gzip", "snappy", "lz4", "zstd"] as const)(
    "decodes %s batches to the records kcat was given",
    (codec) => {
      const bytes = new Uint8Array(Buffer.from(librdkafka[codec], "base64"));
      verifyBatchCrc(bytes);
      const batch = decodeRecordBatch(bytes);
      expect(batch.compression).toBe(codec);
      expect(batch.records.map((r) => [text(r.key), text(r.value)])).toEqual(
        Array.from({ length: 200 }, (_, i) => [
          `k${i % 7}`,
          `{"i":${i},"text":"${"payload ".repeat(1 + (i % 5))}"}`,
        ]),
      );
    },
  );

  it("writes raw snappy, not xerial frames, and lz4 frames like Kafka's", () => {
    const region = (codec: CompressionCodec) =>
      Buffer.from(librdkafka[codec], "base64").subarray(RECORD_BATCH_OVERHEAD, RECORD_BATCH_OVERHEAD + 7);
    expect(region("snappy").subarray(0, 8).toString("hex")).not.toMatch(/^82534e41/);
    expect(region("lz4").toString("hex")).toBe("04224d18604082");
  });
});

/** Our record as @platformatic/kafka's producer takes it (headers as a Map, which keeps one value per key). */
function platformaticMessage(r: LogRecord): MessageRecord {
  const headers = new Map<Buffer, Buffer>();
  const seen = new Set<string>();
  for (const h of r.headers) {
    if (h.value === null || seen.has(h.key)) continue;
    seen.add(h.key);
    headers.set(Buffer.from(h.key), Buffer.from(h.value));
  }
  return {
    topic: "t",
    key: r.key === null ? undefined : Buffer.from(r.key),
    // It writes a missing value as null, though its type asks for one.
    value: (r.value === null ? undefined : Buffer.from(r.value)) as Buffer,
    headers,
    timestamp: BigInt(r.timestamp),
  };
}

/** Timestamps within a quarter of an hour of each other: @platformatic/kafka writes int32 deltas. */
const nearRecords = logRecords.map((rs) =>
  rs.map((r) => ({ ...r, timestamp: 1_700_000_000_000 + (Math.abs(r.timestamp) % 1_000_000) })),
);

describe("compressed batches from @platformatic/kafka (Rust snappy and lz4 in WASM)", () => {
  it.each(["snappy", "lz4", "gzip"] as const)("decodes its %s batches, and it decodes ours", (codec) => {
    fc.assert(
      fc.property(nearRecords, (records) => {
        const messages = records.map(platformaticMessage);
        const theirs = new Uint8Array(createRecordsBatch(messages, { compression: codec }).buffer as Buffer);
        const decoded = decodeRecordBatch(theirs);
        expect(decoded.compression).toBe(codec);
        expect(decoded.records.map((r) => [r.key, r.value, r.timestamp])).toEqual(
          messages.map((m) => [
            m.key === undefined ? null : new Uint8Array(m.key),
            m.value === undefined ? null : new Uint8Array(m.value),
            Number(m.timestamp),
          ]),
        );

        const ours = encodeRecordBatch(records, { compression: codec });
        const back = readRecordsBatch(Reader.from(Buffer.from(ours)));
        // It reads null and empty alike.
        const bytes = (b: Uint8Array | null | undefined) =>
          b == null || b.length === 0 ? null : new Uint8Array(b);
        expect(back.records.map((r) => [bytes(r.key), bytes(r.value)])).toEqual(
          records.map((r) => [bytes(r.key), bytes(r.value)]),
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe("snappy batches from KafkaJS (kafkajs-snappy)", () => {
  async function kafkaJsBatch(records: LogRecord[]): Promise<Uint8Array> {
    const first = records[0].timestamp;
    const batch = await RecordBatch({
      compression: kafkaJsCompression.Types.Snappy,
      firstOffset: 0,
      firstTimestamp: first,
      maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
      lastOffsetDelta: records.length - 1,
      records: records.map((r, i) =>
        KafkaJsRecord({
          offsetDelta: i,
          timestampDelta: r.timestamp - first,
          key: r.key === null ? null : Buffer.from(r.key),
          value: r.value === null ? null : Buffer.from(r.value),
          headers: {},
        }),
      ),
    });
    return new Uint8Array(batch.buffer);
  }

  it("decodes its batches, and it decodes ours (xerial-framed)", async () => {
    await fc.assert(
      fc.asyncProperty(nearRecords, async (records) => {
        const bare = records.map((r) => ({ ...r, headers: [] }));
        const decoded = decodeRecordBatch(await kafkaJsBatch(bare));
        expect(decoded.compression).toBe("snappy");
        expect(decoded.records.map((r) => [r.key, r.value])).toEqual(bare.map((r) => [r.key, r.value]));

        const theirs = await decodeKafkaJsBatch(
          new KafkaJsDecoder(Buffer.from(encodeRecordBatch(records, { compression: "snappy" }))),
        );
        expect(theirs.records.map((r) => [r.key, r.value])).toEqual(
          records.map((r) => [
            r.key === null ? null : Buffer.from(r.key),
            r.value === null ? null : Buffer.from(r.value),
          ]),
        );
      }),
      { numRuns: 40 },
    );
  });
});

describe("zstd batches compressed by libzstd", () => {
  /** Our uncompressed batch with its records region replaced by a libzstd frame, framed here. */
  function zstdBatch(records: LogRecord[], level: number): Uint8Array {
    const plain = encodeRecordBatch(records);
    const frame = zstdWasm.compress(plain.subarray(RECORD_BATCH_OVERHEAD), level);
    const out = new Uint8Array(RECORD_BATCH_OVERHEAD + frame.length);
    out.set(plain.subarray(0, RECORD_BATCH_OVERHEAD));
    out.set(frame, RECORD_BATCH_OVERHEAD);
    const view = new DataView(out.buffer);
    view.setInt32(8, out.length - 12);
    view.setInt16(21, view.getInt16(21) | 4);
    view.setUint32(17, crc32c(out, 21, out.length));
    return out;
  }

  it("decodes them to the records", () => {
    fc.assert(
      fc.property(logRecords, fc.integer({ min: 1, max: 19 }), (records, level) => {
        const batch = decodeRecordBatch(zstdBatch(records, level));
        expect(batch.compression).toBe("zstd");
        expect(batch.records).toEqual(records.map((r, i) => ({ ...r, offset: i })));
      }),
      { numRuns: 40 },
    );
  });

  it.runIf(canCompress("zstd"))("and libzstd reads the zstd batches Floe writes", () => {
    const records: LogRecord[] = [
      { key: te.encode("k"), value: te.encode("v".repeat(5000)), headers: [], timestamp: 1 },
    ];
    const ours = encodeRecordBatch(records, { compression: "zstd" });
    expect(readBatchHeader(ours).compression).toBe("zstd");
    const inflated = zstdWasm.decompress(ours.subarray(RECORD_BATCH_OVERHEAD));
    expect(inflated).toEqual(encodeRecordBatch(records).subarray(RECORD_BATCH_OVERHEAD));
  });
});
