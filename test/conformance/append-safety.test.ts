/**
 * Regression tests for the append failures of issue 10, on every backend: a request answered with a
 * timeout never commits later; a produce wider than one transaction commits in slices; one bad
 * neighbour in a group commit fails alone; a request holding a stale topicId never commits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartialAppendError } from "../../src/broker/append.js";
import { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import { encodeRecordBatch } from "../../src/log/record-batch.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode, FaultyMeta, HeldPuts } from "../support/faults.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

describe.each(testBackends)("append safety on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `s${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const values = async (b: Broker, topic: string, partition = 0) =>
    (await b.fetch({ topic, partition, offset: 0, maxRecords: 1000 })).records.map((r) => text(r.value));

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  describe("no commit after the caller was answered", () => {
    it("a produce whose caller went away while its object was written never lands: A, retry A, B reads A, B", async () => {
      const objects = new HeldPuts(backend.objects);
      const b = new Broker({ meta: backend.meta, objects });
      const topic = topicName();
      await b.createTopic(topic, 1);
      const caller = new AbortController();
      const first = b.produce({ topic, records: [{ value: bytes("A") }], signal: caller.signal });
      await objects.holding();
      caller.abort(); // the HTTP client timed out and closed its connection
      objects.release();
      const e = await expectCode(first, "REQUEST_TIMED_OUT");
      expect(e.retriable).toBe(true);
      expect(await b.produce({ topic, records: [{ value: bytes("A") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
      expect(await b.produce({ topic, records: [{ value: bytes("B") }] })).toEqual([
        { partition: 0, offset: 1 },
      ]);
      expect(await values(broker, topic)).toEqual(["A", "B"]);
    });

    it("a produce past its deadline before its commit appends nothing", async () => {
      const objects = new HeldPuts(backend.objects);
      let now = Date.now();
      const b = new Broker({ meta: backend.meta, objects }, { clock: () => now, requestTimeoutMs: 1_000 });
      const topic = topicName();
      await b.createTopic(topic, 1);
      const late = b.produce({ topic, records: [{ value: bytes("late") }] });
      await objects.holding();
      now += 1_001; // the PUT took longer than request.timeout.ms
      objects.release();
      await expectCode(late, "REQUEST_TIMED_OUT");
      const head = await broker.describeTopic(topic);
      expect(head.partitions[0].highWatermark).toBe(0);
      expect(await b.produce({ topic, records: [{ value: bytes("next") }] })).toEqual([
        { partition: 0, offset: 0 },
      ]);
    });
  });

  describe("wide produce requests", () => {
    it("200 keyed records on 64 partitions commit in slices, every offset answered and readable", async () => {
      const topic = topicName();
      await broker.createTopic(topic, 64);
      const records = Array.from({ length: 200 }, (_, i) => ({
        key: bytes(`key-${i}`),
        value: bytes(`v${i}`),
      }));
      const offsets = await broker.produce({ topic, records });
      expect(offsets).toHaveLength(200);
      expect(new Set(offsets.map((o) => o.partition)).size).toBeGreaterThan(49);
      const expected = new Map<number, string[]>();
      offsets.forEach(({ partition, offset }, i) => {
        const list = expected.get(partition) ?? [];
        expected.set(partition, list);
        expect(offset).toBe(list.length);
        list.push(`v${i}`);
      });
      for (const [partition, list] of expected) expect(await values(broker, topic, partition)).toEqual(list);
    });

    it("when one slice fails, the answer reports each partition's outcome and only committed ones are visible", async () => {
      const faulty = new FaultyMeta(backend.meta);
      const b = new Broker({ meta: faulty, objects: backend.objects });
      const topic = topicName();
      await b.createTopic(topic, 64);
      const records = Array.from({ length: 64 }, (_, p) => ({ partition: p, value: bytes(`p${p}`) }));
      // The first slice commits; the second fails and cannot even be settled.
      faulty.failures.push("ok", "storage", "storage");
      const e = await b.produce({ topic, records }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(PartialAppendError);
      const outcomes = (e as PartialAppendError).outcomes;
      const committed = outcomes.filter((o) => "offset" in o).map((o) => o.partition);
      const failed = outcomes.filter((o) => "error" in o).map((o) => o.partition);
      expect(committed.length).toBeGreaterThan(0);
      expect(failed.length).toBeGreaterThan(0);
      expect(committed.length + failed.length).toBe(64);
      for (const p of committed) expect(await values(broker, topic, p)).toEqual([`p${p}`]);
      for (const p of failed) expect(await values(broker, topic, p)).toEqual([]);
    });
  });

  describe("group commit isolates failures", () => {
    it("a request to a topic deleted since it was cached fails alone; its neighbour commits", async () => {
      const doomed = topicName();
      const healthy = topicName();
      await broker.createTopic(doomed, 1);
      await broker.createTopic(healthy, 1);
      const stale = new Broker(backend, { topicCacheTtlMs: 60_000 });
      await stale.produce({ topic: doomed, records: [{ value: bytes("before") }] });
      await stale.produce({ topic: healthy, records: [{ value: bytes("before") }] });
      await broker.deleteTopic(doomed);

      const [gone, fine] = await stale.produceMany([
        { topic: doomed, records: [{ value: bytes("into the void") }] },
        { topic: healthy, records: [{ value: bytes("after") }] },
      ]);
      expect("error" in gone && gone.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(fine).toEqual({ offsets: [{ partition: 0, offset: 1 }] });
      expect(await values(broker, healthy)).toEqual(["before", "after"]);
    });

    it("a request holding a stale topicId beside one that re-read the topic never commits under the dead id", async () => {
      const topic = topicName();
      const old = await broker.createTopic(topic, 1);
      const stale = new Broker(backend, { topicCacheTtlMs: 60_000 });
      await stale.produce({ topic, records: [{ value: bytes("old") }] });
      await broker.deleteTopic(topic);
      const fresh = await broker.createTopic(topic, 2);

      // The batch request names partition 1, which the cached topic lacks, so it re-reads the topic.
      const [staleOutcome, freshOutcome] = await stale.produceMany([
        { topic, records: [{ partition: 0, value: bytes("stale") }] },
        {
          topic,
          batches: [
            {
              partition: 1,
              bytes: encodeRecordBatch([
                { key: null, value: bytes("fresh"), headers: [], timestamp: Date.now() },
              ]),
            },
          ],
        },
      ]);
      expect("error" in staleOutcome && staleOutcome.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(freshOutcome).toEqual({ offsets: [{ partition: 1, offset: 0 }] });
      // Nothing leaked under the dead topicId: its partition 0 still ends where it did.
      const deadHead = await backend.meta.get(keys.head(old.topicId, 0).pk, "head");
      expect(deadHead?.data.next).toBe(1);
      const deadSegments = await backend.meta.query(keys.partition(old.topicId, 0), { prefix: "seg#" });
      expect(deadSegments).toHaveLength(1);
      expect(await values(broker, topic, 1)).toEqual(["fresh"]);
      expect(await values(broker, topic, 0)).toEqual([]);
      expect(fresh.topicId).not.toBe(old.topicId);
    });
  });
});
