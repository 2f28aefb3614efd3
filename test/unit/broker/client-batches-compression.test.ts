import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { statusForError } from "../../../src/api/error-status.js";
import { acceptClientBatches } from "../../../src/broker/client-batches.js";
import { FloeError } from "../../../src/errors.js";
import { compress } from "../../../src/log/compression.js";
import { crc32c } from "../../../src/log/crc32c.js";
import { encodeRecordBatch, RECORD_BATCH_OVERHEAD } from "../../../src/log/record-batch.js";

/**
 * The broker's check of a producer's compressed batches: inflated to validate their records,
 * bounded against bombs, refused as the client's fault when they do not inflate, stored as sent.
 */
const java = JSON.parse(
  readFileSync(new URL("../log/fixtures/java-producer-batches.json", import.meta.url), "utf8"),
) as Record<string, { small: string; large: string }>;

const rules = { maxBatchBytes: 1024 * 1024 };

function refusal(bytes: Uint8Array, maxBatchBytes = rules.maxBatchBytes): FloeError {
  try {
    acceptClientBatches(bytes, { maxBatchBytes });
  } catch (e) {
    expect(e).toBeInstanceOf(FloeError);
    return e as FloeError;
  }
  throw new Error("accepted");
}

/** `plain` re-packed with `region` as its records, under codec `id`, CRC fixed. */
function repack(plain: Uint8Array, region: Uint8Array, id: number): Uint8Array {
  const out = new Uint8Array(RECORD_BATCH_OVERHEAD + region.length);
  out.set(plain.subarray(0, RECORD_BATCH_OVERHEAD));
  out.set(region, RECORD_BATCH_OVERHEAD);
  const view = new DataView(out.buffer);
  view.setInt32(8, out.length - 12);
  view.setInt16(21, (view.getInt16(21) & ~7) | id);
  view.setUint32(17, crc32c(out, 21, out.length));
  return out;
}

describe("acceptClientBatches with compressed batches", () => {
  it("accepts every codec from Kafka's Java producer, several batches to a request, bytes untouched", () => {
    const run = Buffer.concat(
      ["gzip", "snappy", "lz4", "zstd"].map((c) => Buffer.from(java[c].large, "base64")),
    );
    const before = Buffer.from(run).toString("hex");
    const accepted = acceptClientBatches(new Uint8Array(run), rules);
    expect(accepted.records).toBe(4 * 800);
    expect(accepted.batches).toHaveLength(4);
    expect(Buffer.concat(accepted.batches).toString("hex")).toBe(before);
  });

  it("refuses a compression bomb with 413 MESSAGE_TOO_LARGE, whatever the codec", () => {
    // One record of 65 MiB of zeros inflates past the 64 MiB bound; compressed, it fits a topic's
    // max.message.bytes of 8 MiB (snappy's best ratio is about 21:1).
    const plain = encodeRecordBatch([
      { key: null, value: new Uint8Array(65 * 1024 * 1024), headers: [], timestamp: 1 },
    ]);
    for (const [codec, id] of [
      ["gzip", 1],
      ["snappy", 2],
      ["lz4", 3],
    ] as const) {
      const bomb = repack(plain, compress(codec, plain.subarray(RECORD_BATCH_OVERHEAD)), id);
      expect(bomb.length).toBeLessThan(8 * 1024 * 1024);
      const e = refusal(bomb, 8 * 1024 * 1024);
      expect([e.code, statusForError(e)]).toEqual(["MESSAGE_TOO_LARGE", 413]);
    }
  });

  it("refuses a frame that does not inflate with 400 CORRUPT_MESSAGE, and unknown codec ids too", () => {
    const plain = encodeRecordBatch([
      { key: null, value: new TextEncoder().encode("v"), headers: [], timestamp: 1 },
    ]);
    for (const id of [2, 3, 4]) {
      const e = refusal(repack(plain, plain.subarray(RECORD_BATCH_OVERHEAD), id));
      expect([e.code, statusForError(e)]).toEqual(["CORRUPT_MESSAGE", 400]);
      expect(e.message).toMatch(
        /^The record batch at byte 0 of the request is corrupt: record batch at 0 \((snappy|lz4|zstd)\)/,
      );
    }
    for (const id of [5, 6, 7]) {
      const e = refusal(repack(plain, plain.subarray(RECORD_BATCH_OVERHEAD), id));
      expect([e.code, statusForError(e)]).toEqual(["CORRUPT_MESSAGE", 400]);
    }
    // A Java lz4 batch with one byte of its frame damaged, CRC recomputed as a buggy client would.
    const lz4 = new Uint8Array(Buffer.from(java.lz4.small, "base64"));
    lz4[RECORD_BATCH_OVERHEAD + 4] ^= 0x20; // the block-independence bit
    const e = refusal(repack(lz4, lz4.subarray(RECORD_BATCH_OVERHEAD), 3));
    expect([e.code, statusForError(e)]).toEqual(["CORRUPT_MESSAGE", 400]);
  });
});
