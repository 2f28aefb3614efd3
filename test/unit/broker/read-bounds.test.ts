import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { MAX_FETCH_ANSWER_BYTES, recordBytes } from "../../../src/broker/read.js";
import { MAX_RAW_FETCH_ANSWER_BYTES } from "../../../src/broker/read-raw.js";
import { encodeRecordBatch, type LogRecord } from "../../../src/log/record-batch.js";
import { createBackend } from "../../../src/storage/backend.js";
import { concatBytes as concat } from "../../../src/log/concat-bytes.js";

/**
 * Issue 11, item 3: the read cache is charged what it holds (bytes, never objects per record),
 * fetches decode only as far as their limits reach, and answers are bounded by maxBytes counted as
 * the records' size on the wire, and by what the front door carries.
 */

const MiB = 1024 * 1024;

async function broker(chunkCacheBytes = 64 * MiB): Promise<Broker> {
  return new Broker(await createBackend({ storage: "memory" }), { chunkCacheBytes });
}

function tiny(n: number, value: Uint8Array | null = Uint8Array.of(1, 2)): LogRecord[] {
  return Array.from({ length: n }, () => ({ key: null, value, headers: [], timestamp: 1_700_000_000_000 }));
}

describe("the read cache's charge", () => {
  it("is the chunks' bytes, not their decoded records: tiny records fetched through the cache stay within the budget", async () => {
    // The issue: 10 MiB stored decoded into +157 MiB of objects charged as 10 MiB.
    const b = await broker(16 * MiB);
    await b.createTopic("tiny", 1);
    let stored = 0;
    for (let i = 0; i < 3; i++) {
      const bytes = concat(Array.from({ length: 4 }, () => encodeRecordBatch(tiny(25_000))));
      stored += bytes.length;
      await b.produce({ topic: "tiny", batches: [{ partition: 0, bytes }] });
    }
    for (let offset = 0; offset < 3 * 100_000; offset += 25_000) {
      const r = await b.fetch({ topic: "tiny", partition: 0, offset, maxRecords: 1 });
      expect(r.records[0].offset).toBe(offset);
    }
    const stats = b.readStats();
    expect(stats.chargedBytes).toBeLessThanOrEqual(stats.budgetBytes);
    // All three chunks are held, charged their stored bytes plus a little bookkeeping each.
    expect(stats.entries).toBe(3);
    expect(stats.chargedBytes).toBeGreaterThanOrEqual(stored);
    expect(stats.chargedBytes).toBeLessThan(stored * 1.01);
  });

  it("counts a compressed batch's inflated records when a decoded fetch opens it, and keeps within the budget", async () => {
    // The issue: 2.8 MiB of gzip batches decoded into +276 MiB charged as 2.8 MiB.
    const b = await broker(16 * MiB);
    await b.createTopic("gz", 1);
    const batch = encodeRecordBatch(tiny(700_000, null), { compression: "gzip" });
    await b.produce({ topic: "gz", batches: [{ partition: 0, bytes: batch }] });
    const before = b.readStats().chargedBytes;
    const r = await b.fetch({ topic: "gz", partition: 0, offset: 123_456, maxRecords: 1 });
    expect(r.records.map((x) => x.offset)).toEqual([123_456]);
    const after = b.readStats();
    // The inflated records (7 bytes and more each) are charged on top of the stored batch.
    expect(after.chargedBytes - before).toBeGreaterThanOrEqual(700_000 * 7);
    expect(after.chargedBytes).toBeLessThanOrEqual(after.budgetBytes);

    // With a budget smaller than the inflated batch, nothing is kept past the budget.
    const small = await broker(4 * MiB);
    await small.createTopic("gz", 1);
    await small.produce({ topic: "gz", batches: [{ partition: 0, bytes: batch }] });
    for (const offset of [0, 350_000, 699_999]) {
      await small.fetch({ topic: "gz", partition: 0, offset, maxRecords: 1 });
      expect(small.readStats().chargedBytes).toBeLessThanOrEqual(4 * MiB);
    }
  });
});

describe("decoding", () => {
  it("opens only the batch holding the offset when maxRecords=1, not the whole chunk", async () => {
    const b = await broker();
    await b.createTopic("lazy", 1);
    // One chunk of 10 batches of 100 records.
    const bytes = concat(Array.from({ length: 10 }, () => encodeRecordBatch(tiny(100))));
    await b.produce({ topic: "lazy", batches: [{ partition: 0, bytes }] });
    for (const offset of [0, 550, 999]) {
      const before = b.readStats().batchesDecoded;
      const r = await b.fetch({ topic: "lazy", partition: 0, offset, maxRecords: 1 });
      expect(r.records.map((x) => x.offset)).toEqual([offset]);
      expect(b.readStats().batchesDecoded - before).toBe(1);
    }
    // A limit that ends inside the third batch from 150 opens batches 1, 2 and 3 only.
    const before = b.readStats().batchesDecoded;
    const r = await b.fetch({ topic: "lazy", partition: 0, offset: 150, maxRecords: 200 });
    expect(r.records.length).toBe(200);
    expect(b.readStats().batchesDecoded - before).toBe(3);
  });

  it("keeps a small batch's decoded records, charged their estimated heap, so a hot batch is decoded once", async () => {
    const b = await broker();
    await b.createTopic("hot", 1);
    const bytes = encodeRecordBatch(tiny(1000));
    await b.produce({ topic: "hot", batches: [{ partition: 0, bytes }] });
    const first = await b.fetch({ topic: "hot", partition: 0, offset: 10, maxRecords: 5 });
    const afterFirst = b.readStats();
    const again = await b.fetch({ topic: "hot", partition: 0, offset: 10, maxRecords: 5 });
    expect(again.records).toEqual(first.records);
    expect(b.readStats().batchesDecoded).toBe(afterFirst.batchesDecoded);
    // The chunk's bytes, plus 1000 records at well over a hundred bytes each.
    expect(afterFirst.chargedBytes).toBeGreaterThan(bytes.length + 1000 * 128);
  });
});

describe("maxBytes", () => {
  it("counts every record's size on the wire, tombstones included, and stops at the limit (at least one record)", async () => {
    const b = await broker();
    await b.createTopic("tombs", 1);
    await b.produce({
      topic: "tombs",
      batches: [{ partition: 0, bytes: encodeRecordBatch(tiny(5_000, null)) }],
    });
    const r = await b.fetch({ topic: "tombs", partition: 0, offset: 0, maxBytes: 700, maxRecords: 100_000 });
    const sizes = r.records.map(recordBytes);
    for (const s of sizes) expect(s).toBeGreaterThanOrEqual(7);
    const total = sizes.reduce((n, s) => n + s, 0);
    expect(total).toBeLessThanOrEqual(700);
    // The next record would not have fitted.
    expect(total + 7).toBeGreaterThan(700);
    const one = await b.fetch({ topic: "tombs", partition: 0, offset: 0, maxBytes: 1 });
    expect(one.records.length).toBe(1);
  });

  it("never gathers more than the front door carries, whatever maxBytes asks: decoded, binary and many-partition", async () => {
    const b = await broker();
    await b.createTopic("big", 2);
    const value = new Uint8Array(1024);
    for (const partition of [0, 1]) {
      for (let i = 0; i < 8; i++) {
        const bytes = encodeRecordBatch(tiny(1000, value));
        await b.produce({ topic: "big", batches: [{ partition, bytes }] });
      }
    }
    const huge = 2 ** 31 - 1;
    const decoded = await b.fetch({ topic: "big", partition: 0, offset: 0, maxBytes: huge, maxRecords: 1e6 });
    const decodedBytes = decoded.records.reduce((n, r) => n + recordBytes(r), 0);
    expect(decodedBytes).toBeLessThanOrEqual(MAX_FETCH_ANSWER_BYTES);
    expect(decodedBytes).toBeGreaterThan(MAX_FETCH_ANSWER_BYTES - 2 * 1024);

    const raw = await b.fetchRaw({ topic: "big", partition: 0, offset: 0, maxBytes: huge });
    expect(raw.bytes.length).toBeLessThanOrEqual(MAX_RAW_FETCH_ANSWER_BYTES);
    expect(raw.batches).toBeGreaterThan(0);

    const many = await b.fetchMany(
      [0, 1].map((partition) => ({ topic: "big", partition, offset: 0 })),
      { maxBytes: huge, maxRecords: 1e6 },
    );
    let total = 0;
    for (const o of many) if (!("error" in o)) total += o.records.reduce((n, r) => n + recordBytes(r), 0);
    expect(total).toBeLessThanOrEqual(MAX_FETCH_ANSWER_BYTES);
  });

  it("answers a first record larger than the front door's limit alone (Kafka's rule: a consumer always progresses)", async () => {
    const b = await broker();
    await b.createTopic("huge", 1, { "max.message.bytes": 16 * MiB });
    const big = new Uint8Array(MAX_FETCH_ANSWER_BYTES + 10);
    await b.produce({
      topic: "huge",
      records: [
        { value: big, partition: 0 },
        { value: Uint8Array.of(1), partition: 0 },
      ],
    });
    const r = await b.fetch({ topic: "huge", partition: 0, offset: 0, maxBytes: 2 ** 31 - 1 });
    expect(r.records.map((x) => x.offset)).toEqual([0]);
    const raw = await b.fetchRaw({ topic: "huge", partition: 0, offset: 0, maxBytes: 2 ** 31 - 1 });
    expect(raw.batches).toBe(1);
  });
});
