import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { partitionForKey } from "../../src/broker/partitioner.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode, FaultyMeta } from "../support/faults.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

async function segmentObjects(backend: Backend): Promise<string[]> {
  return (await backend.objects.list("segments/")).map((o) => o.key);
}

describe.each(testBackends)("broker on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `t${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  describe("topics", () => {
    it("creates, lists, describes, grows, reconfigures and deletes", async () => {
      const name = topicName();
      const created = await broker.createTopic(name, 3, { "retention.ms": "3600000" });
      expect(created.partitions).toBe(3);
      expect(created.topicId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await broker.listTopics()).toContain(name);

      const described = await broker.describeTopic(name);
      expect(described.partitions.map((p) => [p.partition, p.logStartOffset, p.highWatermark])).toEqual([
        [0, 0, 0],
        [1, 0, 0],
        [2, 0, 0],
      ]);
      expect(described.config["retention.ms"]).toBe(3_600_000);
      expect(described.config["max.message.bytes"]).toBe(1_048_588);

      await broker.updateTopic(name, {
        partitions: 5,
        config: { "retention.ms": null, "retention.bytes": 1000 },
      });
      const grown = await broker.describeTopic(name);
      expect(grown.partitions).toHaveLength(5);
      expect(grown.config["retention.ms"]).toBe(604_800_000);
      expect(grown.config["retention.bytes"]).toBe(1000);

      await broker.deleteTopic(name);
      expect(await broker.listTopics()).not.toContain(name);
      await expectCode(broker.describeTopic(name), "UNKNOWN_TOPIC_OR_PARTITION");
    });

    it("refuses a duplicate, bad names, bad partition counts, unknown configs and shrinking", async () => {
      const name = topicName();
      await broker.createTopic(name, 2);
      await expectCode(broker.createTopic(name, 2), "TOPIC_ALREADY_EXISTS");
      for (const bad of ["", ".", "..", "a/b", "has space", "ü", "x".repeat(250)]) {
        await expectCode(broker.createTopic(bad, 1), "INVALID_TOPIC_EXCEPTION");
      }
      await broker.createTopic("x".repeat(249), 1);
      for (const bad of [0, -1, 1.5])
        await expectCode(broker.createTopic(topicName(), bad), "INVALID_PARTITIONS");
      await expectCode(broker.createTopic(topicName(), 1, { "no.such.config": "1" }), "INVALID_CONFIG");
      await expectCode(broker.createTopic(topicName(), 1, { "retention.ms": "soon" }), "INVALID_CONFIG");
      await expectCode(broker.updateTopic(name, { partitions: 1 }), "INVALID_PARTITIONS");
      await expectCode(broker.deleteTopic(topicName()), "UNKNOWN_TOPIC_OR_PARTITION");
    });

    it("starts a re-created topic empty", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      await broker.produce({ topic: name, records: [{ value: bytes("old") }] });
      await broker.deleteTopic(name);
      await broker.createTopic(name, 1);
      const r = await broker.fetch({ topic: name, partition: 0, offset: 0 });
      expect(r.highWatermark).toBe(0);
      expect(r.records).toEqual([]);
      expect(await broker.produce({ topic: name, records: [{ value: bytes("new") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
    });
  });

  describe("append and read", () => {
    it("answers offsets in request order and reads back exactly what was written", async () => {
      const name = topicName();
      await broker.createTopic(name, 3);
      const records = Array.from({ length: 30 }, (_, i) => ({
        key: bytes(`key-${i % 7}`),
        value: i === 5 ? null : Uint8Array.from([i, 0, 255, 128]),
        headers: [
          { key: "trace", value: bytes(`t${i}`) },
          { key: "empty", value: null },
        ],
        timestamp: 1_700_000_000_000 + i,
      }));
      const offsets = await broker.produce({ topic: name, records });
      expect(offsets).toHaveLength(30);
      const seen = new Map<number, number>();
      offsets.forEach(({ partition, offset }, i) => {
        expect(partition).toBe(partitionForKey(records[i].key, 3));
        // Within a partition offsets follow request order from 0.
        expect(offset).toBe(seen.get(partition) ?? 0);
        seen.set(partition, offset + 1);
      });
      // One object for the whole multi-partition request.
      expect((await segmentObjects(backend)).length).toBeGreaterThan(0);

      for (let p = 0; p < 3; p++) {
        const r = await broker.fetch({ topic: name, partition: p, offset: 0 });
        expect(r.highWatermark).toBe(seen.get(p) ?? 0);
        const expected = records.filter((_, i) => offsets[i].partition === p);
        expect(r.records.map((x) => x.offset)).toEqual(expected.map((_, i) => i));
        r.records.forEach((got, i) => {
          expect(got.key).toEqual(expected[i].key);
          expect(got.value).toEqual(expected[i].value);
          expect(got.timestamp).toBe(expected[i].timestamp);
          expect(got.headers.map((h) => [h.key, text(h.value)])).toEqual(
            expected[i].headers.map((h) => [h.key, text(h.value)]),
          );
        });
        expect(r.nextOffset).toBe(seen.get(p) ?? 0);
      }
    });

    it("writes one object holding every partition's chunk per append", async () => {
      const name = topicName();
      await broker.createTopic(name, 4);
      const before = (await segmentObjects(backend)).length;
      await broker.produce({
        topic: name,
        records: [0, 1, 2, 3].map((p) => ({ value: bytes(`p${p}`), partition: p })),
      });
      expect((await segmentObjects(backend)).length).toBe(before + 1);
      for (let p = 0; p < 4; p++) {
        const r = await broker.fetch({ topic: name, partition: p, offset: 0 });
        expect(r.records.map((x) => text(x.value))).toEqual([`p${p}`]);
      }
    });

    it("reads from the middle of a segment and across segments, bounded by maxRecords and maxBytes", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      for (let call = 0; call < 5; call++) {
        await broker.produce({
          topic: name,
          records: Array.from({ length: 10 }, (_, i) => ({
            value: bytes(`v${call * 10 + i}`.padEnd(100, ".")),
          })),
        });
      }
      const mid = await broker.fetch({ topic: name, partition: 0, offset: 13, maxRecords: 20 });
      expect(mid.records.map((r) => r.offset)).toEqual(Array.from({ length: 20 }, (_, i) => 13 + i));
      expect(text(mid.records[0].value)?.startsWith("v13.")).toBe(true);
      expect(mid.nextOffset).toBe(33);

      const small = await broker.fetch({ topic: name, partition: 0, offset: 0, maxBytes: 350 });
      expect(small.records.length).toBeGreaterThan(0);
      expect(small.records.length).toBeLessThan(5);
      // At least one record even when it alone exceeds maxBytes, as Kafka does.
      const one = await broker.fetch({ topic: name, partition: 0, offset: 49, maxBytes: 1 });
      expect(one.records.map((r) => r.offset)).toEqual([49]);

      const all = await broker.fetch({ topic: name, partition: 0, offset: 0, maxRecords: 1000 });
      expect(all.records.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    it("answers empty at the high-water mark and OFFSET_OUT_OF_RANGE past it", async () => {
      const name = topicName();
      await broker.createTopic(name, 2);
      await broker.produce({ topic: name, records: [{ value: bytes("a"), partition: 1 }] });
      const atEnd = await broker.fetch({ topic: name, partition: 1, offset: 1 });
      expect(atEnd.records).toEqual([]);
      expect(atEnd.nextOffset).toBe(1);
      await expectCode(broker.fetch({ topic: name, partition: 1, offset: 2 }), "OFFSET_OUT_OF_RANGE");
      await expectCode(broker.fetch({ topic: name, partition: 1, offset: -1 }), "OFFSET_OUT_OF_RANGE");
      await expectCode(broker.fetch({ topic: name, partition: 2, offset: 0 }), "UNKNOWN_TOPIC_OR_PARTITION");
      await expectCode(
        broker.fetch({ topic: topicName(), partition: 0, offset: 0 }),
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
    });

    it("wakes a long-polling fetch when a record arrives", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      const waiting = broker.fetch({ topic: name, partition: 0, offset: 0, maxWaitMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      await broker.produce({ topic: name, records: [{ value: bytes("wake") }] });
      const r = await waiting;
      expect(r.records.map((x) => text(x.value))).toEqual(["wake"]);
    });

    it("sees appends made by another broker over the same storage while long-polling", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      const other = new Broker(backend);
      const waiting = broker.fetch({ topic: name, partition: 0, offset: 0, maxWaitMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      await other.produce({ topic: name, records: [{ value: bytes("from elsewhere") }] });
      expect((await waiting).records.map((x) => text(x.value))).toEqual(["from elsewhere"]);
    });

    it("fetches many partitions in one call, with per-partition errors", async () => {
      const name = topicName();
      await broker.createTopic(name, 2);
      await broker.produce({ topic: name, records: [{ value: bytes("zero"), partition: 0 }] });
      const results = await broker.fetchMany([
        { topic: name, partition: 0, offset: 0 },
        { topic: name, partition: 1, offset: 0 },
        { topic: name, partition: 7, offset: 0 },
      ]);
      expect(results).toHaveLength(3);
      expect("records" in results[0] && results[0].records.map((r) => text(r.value))).toEqual(["zero"]);
      expect("records" in results[1] && results[1].records).toEqual([]);
      expect("error" in results[2] && results[2].error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    });

    it("keeps records of null key together per call and spreads calls across partitions", async () => {
      const name = topicName();
      await broker.createTopic(name, 4);
      const used = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const offsets = await broker.produce({
          topic: name,
          records: [{ value: bytes("a") }, { value: bytes("b") }, { value: bytes("c") }],
        });
        expect(new Set(offsets.map((o) => o.partition)).size).toBe(1);
        used.add(offsets[0].partition);
      }
      expect(used.size).toBeGreaterThan(1);
    });

    it("auto-creates topics on produce only when enabled", async () => {
      const name = topicName();
      await expectCode(
        broker.produce({ topic: name, records: [{ value: bytes("x") }] }),
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      const auto = new Broker(backend, { autoCreateTopics: true, defaultPartitions: 3 });
      expect(await auto.produce({ topic: name, records: [{ value: bytes("x"), partition: 2 }] })).toEqual([
        { partition: 2, offset: 0 },
      ]);
      expect((await broker.describeTopic(name)).partitions).toHaveLength(3);
    });
  });

  describe("list offsets", () => {
    it("answers earliest, latest and the first offset at or after a timestamp", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      for (let call = 0; call < 3; call++) {
        await broker.produce({
          topic: name,
          records: Array.from({ length: 4 }, (_, i) => ({
            value: bytes("x"),
            timestamp: 1000 * (call * 4 + i),
          })),
        });
      }
      expect((await broker.listOffsets(name, 0, "earliest")).offset).toBe(0);
      expect((await broker.listOffsets(name, 0, "latest")).offset).toBe(12);
      expect(await broker.listOffsets(name, 0, { timestamp: 5000 })).toEqual({
        partition: 0,
        offset: 5,
        timestamp: 5000,
      });
      expect(await broker.listOffsets(name, 0, { timestamp: 5500 })).toEqual({
        partition: 0,
        offset: 6,
        timestamp: 6000,
      });
      expect(await broker.listOffsets(name, 0, { timestamp: 0 })).toEqual({
        partition: 0,
        offset: 0,
        timestamp: 0,
      });
      expect(await broker.listOffsets(name, 0, { timestamp: 99_000 })).toEqual({
        partition: 0,
        offset: 12,
        timestamp: null,
      });
      await expectCode(broker.listOffsets(name, 1, "latest"), "UNKNOWN_TOPIC_OR_PARTITION");
    });
  });

  describe("concurrency", () => {
    it("8 concurrent appenders to one partition get contiguous offsets, each record at its acked offset", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      const appenders = 8;
      const calls = 12;
      const acked = new Map<number, string>();
      await Promise.all(
        Array.from({ length: appenders }, async (_, a) => {
          // Each appender is its own broker, as separate Lambda instances would be.
          const mine = new Broker(backend);
          for (let c = 0; c < calls; c++) {
            const values = [0, 1, 2].map((i) => `a${a}-c${c}-r${i}`);
            const offsets = await mine.produce({
              topic: name,
              records: values.map((v) => ({ value: bytes(v), partition: 0 })),
            });
            offsets.forEach((o, i) => {
              expect(acked.has(o.offset)).toBe(false);
              acked.set(o.offset, values[i]);
            });
          }
        }),
      );
      const total = appenders * calls * 3;
      expect([...acked.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i));
      const read = await broker.fetch({ topic: name, partition: 0, offset: 0, maxRecords: total });
      expect(read.highWatermark).toBe(total);
      expect(read.records.map((r) => [r.offset, text(r.value)])).toEqual(
        Array.from({ length: total }, (_, i) => [i, acked.get(i)]),
      );
    });
  });

  describe("the crash window", () => {
    it("a commit that failed without landing is fenced and retried with a new object: acked once", async () => {
      const faulty = new FaultyMeta(backend.meta);
      const b = new Broker({ meta: faulty, objects: backend.objects });
      const name = topicName();
      await b.createTopic(name, 1);
      const before = (await segmentObjects(backend)).length;

      faulty.failures.push("storage");
      expect(await b.produce({ topic: name, records: [{ value: bytes("once") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
      // The first object's ref item was claimed (so its commit can never land) and is left to GC.
      expect((await segmentObjects(backend)).length).toBe(before + 2);
      const r = await broker.fetch({ topic: name, partition: 0, offset: 0 });
      expect(r.records.map((x) => [x.offset, text(x.value)])).toEqual([[0, "once"]]);
    });

    it("a commit whose outcome stays unknown answers a retriable error that says so, and appends nothing visible", async () => {
      const faulty = new FaultyMeta(backend.meta);
      const b = new Broker({ meta: faulty, objects: backend.objects });
      const name = topicName();
      await b.createTopic(name, 1);
      // The commit fails, and so does the attempt to settle it.
      faulty.failures.push("storage", "storage");
      const e = await expectCode(
        b.produce({ topic: name, records: [{ value: bytes("unknown") }] }),
        "KAFKA_STORAGE_ERROR",
      );
      expect(e.retriable).toBe(true);
      expect(e.message).toMatch(/outcome is unknown/);
      const after = await broker.fetch({ topic: name, partition: 0, offset: 0 });
      expect(after.highWatermark).toBe(0);
      expect(await b.produce({ topic: name, records: [{ value: bytes("kept") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
    });

    it("a commit that landed although its call failed is recognised: acked with its offsets, not appended again", async () => {
      const faulty = new FaultyMeta(backend.meta);
      const b = new Broker({ meta: faulty, objects: backend.objects });
      const name = topicName();
      await b.createTopic(name, 1);
      faulty.failures.push("after-commit");
      expect(await b.produce({ topic: name, records: [{ value: bytes("landed") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
      const r = await broker.fetch({ topic: name, partition: 0, offset: 0 });
      expect(r.records.map((x) => [x.offset, text(x.value)])).toEqual([[0, "landed"]]);
      expect(r.highWatermark).toBe(1);
    });

    it("a commit that loses a race is retried with the same object, not lost", async () => {
      const faulty = new FaultyMeta(backend.meta);
      const b = new Broker({ meta: faulty, objects: backend.objects });
      const name = topicName();
      await b.createTopic(name, 1);
      const before = (await segmentObjects(backend)).length;
      faulty.failures.push("conflict", "conflict");
      const transacts = faulty.transacts;
      expect(await b.produce({ topic: name, records: [{ value: bytes("eventually") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
      expect(faulty.transacts - transacts).toBe(3);
      expect((await segmentObjects(backend)).length).toBe(before + 1);
      const r = await broker.fetch({ topic: name, partition: 0, offset: 0 });
      expect(r.records.map((x) => text(x.value))).toEqual(["eventually"]);
    });

    it("an append racing a topic delete is refused, not acked into the deleted topic", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      const stale = new Broker(backend, { topicCacheTtlMs: 60_000 });
      await stale.produce({ topic: name, records: [{ value: bytes("cached topic") }] });
      await broker.deleteTopic(name);
      await broker.createTopic(name, 1);
      // `stale` still caches the old topicId; its commit check must catch the re-creation.
      await expectCode(
        stale.produce({ topic: name, records: [{ value: bytes("x") }] }),
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      expect((await broker.fetch({ topic: name, partition: 0, offset: 0 })).records).toEqual([]);
    });
  });

  describe("bad input appends nothing", () => {
    it("refuses a record over max.message.bytes along with the rest of its request", async () => {
      const name = topicName();
      await broker.createTopic(name, 1);
      const big = new Uint8Array(2 * 1024 * 1024);
      await expectCode(
        broker.produce({ topic: name, records: [{ value: bytes("small") }, { value: big }] }),
        "RECORD_TOO_LARGE",
      );
      expect((await broker.fetch({ topic: name, partition: 0, offset: 0 })).highWatermark).toBe(0);
      // A lower per-topic limit applies too.
      await broker.updateTopic(name, { config: { "max.message.bytes": 1000 } });
      await expectCode(
        broker.produce({ topic: name, records: [{ value: new Uint8Array(2000) }] }),
        "RECORD_TOO_LARGE",
      );
      // Many records that together exceed the limit are split into batches, not refused.
      const offsets = await broker.produce({
        topic: name,
        records: Array.from({ length: 20 }, () => ({ value: new Uint8Array(400) })),
      });
      expect(offsets.map((o) => o.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect((await broker.fetch({ topic: name, partition: 0, offset: 0 })).records).toHaveLength(20);
    });

    it("refuses unknown partitions, bad timestamps and empty requests", async () => {
      const name = topicName();
      await broker.createTopic(name, 2);
      await expectCode(
        broker.produce({
          topic: name,
          records: [{ value: bytes("ok") }, { value: bytes("x"), partition: 2 }],
        }),
        "UNKNOWN_TOPIC_OR_PARTITION",
      );
      await expectCode(
        broker.produce({ topic: name, records: [{ value: bytes("x"), timestamp: -5 }] }),
        "INVALID_RECORD",
      );
      await expectCode(broker.produce({ topic: name, records: [] }), "INVALID_REQUEST");
      const d = await broker.describeTopic(name);
      expect(d.partitions.map((p) => p.highWatermark)).toEqual([0, 0]);
    });

    it("group commit: one object for many requests, a bad request fails alone", async () => {
      const name = topicName();
      await broker.createTopic(name, 2);
      const before = (await segmentObjects(backend)).length;
      const outcomes = await broker.produceMany([
        { topic: name, records: [{ value: bytes("a"), partition: 0 }] },
        { topic: name, records: [{ value: bytes("bad"), partition: 9 }] },
        {
          topic: name,
          records: [
            { value: bytes("b"), partition: 0 },
            { value: bytes("c"), partition: 1 },
          ],
        },
      ]);
      expect(outcomes[0]).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
      expect("error" in outcomes[1] && outcomes[1].error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(outcomes[2]).toEqual({
        offsets: [
          { partition: 0, offset: 1 },
          { partition: 1, offset: 0 },
        ],
      });
      expect((await segmentObjects(backend)).length).toBe(before + 1);
    });
  });
});
