import { describe, expect, it } from "vitest";
import { statusForError } from "../../../src/api/error-status.js";
import { Broker } from "../../../src/broker/broker.js";
import {
  acceptClientBatches,
  inflateBudget,
  MAX_INFLATED_BYTES_PER_REQUEST,
} from "../../../src/broker/client-batches.js";
import { FloeError } from "../../../src/errors.js";
import { encodeRecordBatch } from "../../../src/log/record-batch.js";
import { createBackend } from "../../../src/storage/backend.js";
import { concatBytes as concat } from "../../../src/log/concat-bytes.js";

/**
 * Issue 11: what one produce request may inflate is bounded across the request, not per batch, and
 * a refused request appends nothing.
 */

/** A gzip batch whose one record's value is `bytes` zeros: a few KiB that inflate to `bytes`. */
function zeros(bytes: number): Uint8Array {
  return encodeRecordBatch([{ key: null, value: new Uint8Array(bytes), headers: [], timestamp: 1 }], {
    compression: "gzip",
  });
}

const rules = { maxBatchBytes: 1024 * 1024 };

describe("inflating a request's compressed batches", () => {
  it("is bounded across the request's batches: two batches of 40 MiB each are refused with MESSAGE_TOO_LARGE", () => {
    const half = zeros(40 * 1024 * 1024);
    expect(half.length).toBeLessThan(rules.maxBatchBytes);
    // One alone is within the bound.
    expect(acceptClientBatches(half, rules).records).toBe(1);
    let error: unknown;
    try {
      acceptClientBatches(concat([half, half]), rules);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FloeError);
    expect((error as FloeError).code).toBe("MESSAGE_TOO_LARGE");
    expect(statusForError(error as FloeError)).toBe(413);
    expect((error as FloeError).message).toContain(String(MAX_INFLATED_BYTES_PER_REQUEST));
  });

  it("shares one allowance between the pieces of one client request (Kafka's Produce, POST /v1/records)", () => {
    const budget = inflateBudget(10 * 1024 * 1024);
    acceptClientBatches(zeros(6 * 1024 * 1024), { ...rules, inflate: budget });
    // The record region: the value plus its record framing.
    expect(4 * 1024 * 1024 - budget.left).toBeLessThan(32);
    expect(() => acceptClientBatches(zeros(6 * 1024 * 1024), { ...rules, inflate: budget })).toThrow(
      /inflates beyond/,
    );
  });

  it("checks a batch of 700k tiny records by scanning it (the issue's 978 KB gzip batch) and accepts it", () => {
    const records = Array.from({ length: 700_000 }, () => ({
      key: null,
      value: null,
      headers: [],
      timestamp: 1,
    }));
    const batch = encodeRecordBatch(records, { compression: "gzip" });
    expect(batch.length).toBeLessThan(1_000_000);
    expect(acceptClientBatches(batch, { maxBatchBytes: 1_048_588 }).records).toBe(700_000);
  });

  it("draws a shared allowance once when the produce auto-creates its topic (the trial check has its own)", async () => {
    const broker = new Broker(await createBackend({ storage: "memory" }), { autoCreateTopics: true });
    const budget = inflateBudget(10 * 1024 * 1024);
    const offsets = await broker.produce({
      topic: "created-on-produce",
      batches: [{ partition: 0, bytes: zeros(6 * 1024 * 1024) }],
      inflate: budget,
    });
    expect(offsets).toHaveLength(1);
    expect(4 * 1024 * 1024 - budget.left).toBeLessThan(32);
  });

  it("a refused request appends nothing", async () => {
    const broker = new Broker(await createBackend({ storage: "memory" }));
    await broker.createTopic("bombs", 2);
    const half = zeros(40 * 1024 * 1024);
    await expect(
      broker.produce({
        topic: "bombs",
        batches: [
          { partition: 0, bytes: half },
          { partition: 1, bytes: half },
        ],
      }),
    ).rejects.toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    const partitions = (await broker.describeTopic("bombs")).partitions;
    expect(partitions.map((p) => p.highWatermark)).toEqual([0, 0]);
  });
});
