import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import {
  bytes,
  expectCode,
  expectLossless,
  HookedMeta,
  objectKeys,
  produceSmall,
  refsOf,
  SkewClock,
  segmentItems,
} from "./maintenance-fixtures.js";

const HOUR = 3_600_000;
const GRACE_MS = 10 * 60 * 1000;

describe.each(testBackends)("retention and topic deletion on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `r${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeEach(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterEach(async () => {
    await backend?.close();
  });

  it("retention.ms deletes whole segments whose newest record is older, advancing the log start", async () => {
    const clock = new SkewClock();
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1, { "retention.ms": String(HOUR) });
    const now = Date.now();
    await produceSmall(broker, topic, 1, 10, 5, { timestamp: () => now - 2 * HOUR });
    const acked = await produceSmall(broker, topic, 1, 10, 5, { timestamp: () => now - HOUR / 2 });
    const bytesBefore = (await broker.describeTopic(topic)).partitions[0].bytes;
    const oldKeys = (await segmentItems(backend.meta, topicId, 0))
      .slice(0, 10)
      .map((i) => String(i.data.key));

    const maintenance = new Maintenance(backend, { clock: clock.now });
    const report = await maintenance.runOnce();
    expect(report.errors).toEqual([]);
    expect(report.retention.segmentsDeleted).toBe(10);
    const described = (await broker.describeTopic(topic)).partitions[0];
    expect(described.logStartOffset).toBe(50);
    expect(described.highWatermark).toBe(100);
    expect(described.bytes).toBe(bytesBefore - report.retention.bytesDeleted);
    expect(await broker.listOffsets(topic, 0, "earliest")).toMatchObject({ offset: 50 });
    for (const key of oldKeys) expect((await refsOf(backend.meta, key))?.data.refs).toEqual([]);

    // A consumer still below the log start is told so, as Kafka tells it; from the start all is there.
    await expectCode(broker.fetch({ topic, partition: 0, offset: 0 }), "OFFSET_OUT_OF_RANGE");
    await expectCode(broker.fetch({ topic, partition: 0, offset: 49 }), "OFFSET_OUT_OF_RANGE");
    await expectLossless(broker, topic, acked, [50]);

    // Once everything has expired the log is empty: it starts at the high-water mark.
    clock.advance(HOUR);
    expect((await maintenance.runOnce()).retention.segmentsDeleted).toBeGreaterThan(0);
    expect((await broker.describeTopic(topic)).partitions[0]).toMatchObject({
      logStartOffset: 100,
      highWatermark: 100,
      bytes: 0,
    });
    expect(await segmentItems(backend.meta, topicId, 0)).toEqual([]);
    expect((await broker.fetch({ topic, partition: 0, offset: 100 })).records).toEqual([]);
    await expectCode(broker.fetch({ topic, partition: 0, offset: 99 }), "OFFSET_OUT_OF_RANGE");
    // Appends carry on from there.
    expect(await broker.produce({ topic, records: [{ value: bytes("after") }] })).toEqual([
      { partition: 0, offset: 100 },
    ]);

    // The expired objects lose their last ref and go after the grace period.
    clock.advance(GRACE_MS + 1000);
    await maintenance.runOnce();
    const left = await objectKeys(backend.objects);
    for (const key of oldKeys) expect(left).not.toContain(key);
    expect(left).toHaveLength(1);
  });

  it("retention.bytes drops the oldest segments while the rest still holds at least retention.bytes", async () => {
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const value = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 20; i++) await broker.produce({ topic, records: [{ value }] });
    const total = (await broker.describeTopic(topic)).partitions[0].bytes;
    const segment = total / 20;
    expect(Number.isInteger(segment)).toBe(true);
    await broker.updateTopic(topic, { config: { "retention.bytes": Math.floor(5.5 * segment) } });

    const report = await new Maintenance(backend).runOnce();
    expect(report.retention).toEqual({ segmentsDeleted: 14, bytesDeleted: 14 * segment });
    const described = (await broker.describeTopic(topic)).partitions[0];
    expect(described).toMatchObject({ logStartOffset: 14, highWatermark: 20, bytes: 6 * segment });
    const r = await broker.fetch({ topic, partition: 0, offset: 14, maxRecords: 100 });
    expect(r.records.map((x) => x.offset)).toEqual([14, 15, 16, 17, 18, 19]);
    await expectCode(broker.fetch({ topic, partition: 0, offset: 13 }), "OFFSET_OUT_OF_RANGE");
    // The six left were merged into one segment: retention can only drop all of it or none now.
    expect(await segmentItems(backend.meta, topicId, 0)).toHaveLength(1);
    expect((await new Maintenance(backend).runOnce()).retention.segmentsDeleted).toBe(0);
  });

  it("a fetch that read the head before retention moved the log start answers OFFSET_OUT_OF_RANGE, never skips", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1, { "retention.ms": String(HOUR) });
    const now = Date.now();
    await produceSmall(broker, topic, 1, 5, 2, { timestamp: () => now - 2 * HOUR });
    await produceSmall(broker, topic, 1, 5, 2, { timestamp: () => now });

    // Retention runs between the fetch's read of the head and its read of the index.
    const meta = new HookedMeta(backend.meta);
    let armed = true;
    meta.afterGet = async (_pk, sk) => {
      if (!armed || sk !== "head") return;
      armed = false;
      expect((await new Maintenance(backend).runOnce()).retention.segmentsDeleted).toBe(5);
    };
    const reader = new Broker({ meta, objects: backend.objects });
    await expectCode(reader.fetch({ topic, partition: 0, offset: 0 }), "OFFSET_OUT_OF_RANGE");
    const r = await reader.fetch({ topic, partition: 0, offset: 10 });
    expect(r.logStartOffset).toBe(10);
    expect(r.records.map((x) => x.offset)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it("deleting a topic reclaims its index items, leases and objects; an object it shared with another topic stays", async () => {
    const clock = new SkewClock();
    const doomed = topicName();
    const kept = topicName();
    const { topicId } = await broker.createTopic(doomed, 3);
    await broker.createTopic(kept, 1);
    await produceSmall(broker, doomed, 3, 30, 6);
    // Three segments: too few to merge, so the shared object below stays indexed by `kept`.
    const keptAcked = await produceSmall(broker, kept, 1, 2, 2);
    // One object holding a chunk of each topic.
    const shared = await broker.produceMany([
      { topic: doomed, records: [{ value: bytes("doomed"), partition: 1 }] },
      { topic: kept, records: [{ value: bytes("kept") }] },
    ]);
    expect(shared.every((o) => "offsets" in o)).toBe(true);
    keptAcked[0].set(4, "kept");
    const maintenance = new Maintenance(backend, { clock: clock.now });
    await maintenance.runOnce(); // compaction leaves leases and merged objects behind too

    await broker.deleteTopic(doomed);
    const report = await maintenance.runOnce();
    expect(report.errors).toEqual([]);
    expect(report.reclaim).toMatchObject({ topics: 1, partitions: 3 });
    for (let p = 0; p < 3; p++) expect(await backend.meta.query(keys.partition(topicId, p))).toEqual([]);
    const k = keys.deletedTopicEntry(topicId);
    expect(await backend.meta.get(k.pk, k.sk)).toBeUndefined();

    clock.advance(GRACE_MS + 1000);
    await maintenance.runOnce();
    // What is left is exactly what the surviving topic indexes.
    const { topicId: keptId } = await broker.topics.get(kept);
    const keptSegments = await segmentItems(backend.meta, keptId, 0);
    const indexed = new Set(keptSegments.map((i) => String(i.data.key)));
    expect(new Set(await objectKeys(backend.objects))).toEqual(indexed);
    const sharedKey = String(keptSegments[keptSegments.length - 1].data.key);
    expect((await refsOf(backend.meta, sharedKey))?.data.refs).toEqual([`${keptId}#0`]);
    await expectLossless(new Broker(backend), kept, keptAcked);
  });
});
