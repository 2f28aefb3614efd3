import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import {
  type Acked,
  bytes,
  expectLossless,
  HookedMeta,
  HookedObjects,
  isSwap,
  objectKeys,
  produceSmall,
  readAll,
  refsOf,
  SkewClock,
  segmentItems,
  underLease,
} from "./maintenance-fixtures.js";

const GRACE_MS = 10 * 60 * 1000;

describe.each(testBackends)("compaction on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `c${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeEach(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterEach(async () => {
    await backend?.close();
  });

  /** Fails the test (from inside a hook) if a fetch then does not see exactly what was acked. */
  async function checkReadable(topic: string, acked: Acked, seen: string[], label: string): Promise<void> {
    const reader = new Broker(backend);
    for (let p = 0; p < acked.length; p++) {
      const got = await readAll(reader, topic, p);
      const want = acked[p];
      const same = got.size === want.size && [...want].every(([o, v]) => got.get(o) === v);
      seen.push(same ? label : `${label}: partition ${p} differs`);
    }
  }

  it("300 appends of 10 records: ten times fewer objects and segments, every record at its offset, fetches running throughout", async () => {
    const clock = new SkewClock();
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 2);
    // One at a time: concurrent appends to the same heads only retry each other on the emulators.
    const acked = await produceSmall(broker, topic, 2, 300, 10, { concurrency: 1 });
    expect(acked.map((m) => m.size)).toEqual([1500, 1500]);
    const objectsBefore = (await objectKeys(backend.objects)).length;
    expect(objectsBefore).toBe(300);
    const segmentsBefore = [
      (await segmentItems(backend.meta, topicId, 0)).length,
      (await segmentItems(backend.meta, topicId, 1)).length,
    ];
    expect(segmentsBefore).toEqual([300, 300]);
    const oldKeys = new Set(await objectKeys(backend.objects));

    // Fetches from another broker run in a loop for the whole compaction, and the hooks also read
    // the partitions in full at fixed points of a merge: after its object is written, and after
    // its index swap. Every one of them must see exactly what was acknowledged.
    const seen: string[] = [];
    const meta = new HookedMeta(backend.meta);
    const objects = new HookedObjects(backend.objects);
    let refsWhileSecondPartitionCompacts: string[] | undefined;
    let pausesLeft = 1;
    objects.afterPut = async () => {
      step();
      if (pausesLeft > 0) await checkReadable(topic, acked, seen, "object written");
    };
    meta.afterTransact = async (ops) => {
      step();
      if (!isSwap(ops)) return;
      if (pausesLeft > 0) {
        pausesLeft--;
        await checkReadable(topic, acked, seen, "index swapped");
      }
      // Objects hold a chunk of each partition: partition 0's merges drop only its own refs.
      if (underLease(ops, topicId, 1) && refsWhileSecondPartitionCompacts === undefined) {
        const anyOld = [...oldKeys].find((k) => !ops.some((op) => op.pk === `obj#${k}`));
        refsWhileSecondPartitionCompacts = (await refsOf(backend.meta, anyOld!))?.data.refs as string[];
      }
    };
    // One background pass per maintenance write, so the reader neither starves maintenance nor idles.
    let compacting = true;
    let passes = 0;
    let progressed!: () => void;
    let progress = new Promise<void>((resolve) => (progressed = resolve));
    const step = () => {
      progressed();
      progress = new Promise<void>((resolve) => (progressed = resolve));
    };
    const background = (async () => {
      const reader = new Broker(backend);
      while (compacting) {
        await expectLossless(reader, topic, acked);
        passes++;
        if (compacting) await progress;
      }
    })();

    const maintenance = new Maintenance({ meta, objects }, { clock: clock.now });
    const report = await maintenance.runOnce();
    compacting = false;
    step();
    await background;

    expect(report.errors).toEqual([]);
    expect(report.cycleComplete).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s === "object written" || s === "index swapped")).toBe(true);
    expect(passes).toBeGreaterThan(0);
    expect(refsWhileSecondPartitionCompacts).toEqual([`${topicId}#1`]);

    const segmentsAfter = [
      (await segmentItems(backend.meta, topicId, 0)).length,
      (await segmentItems(backend.meta, topicId, 1)).length,
    ];
    for (let p = 0; p < 2; p++) expect(segmentsAfter[p] * 10).toBeLessThanOrEqual(segmentsBefore[p]);
    expect(report.cycle?.segmentsPerPartition).toBe((segmentsAfter[0] + segmentsAfter[1]) / 2);
    await expectLossless(broker, topic, acked);

    // The old objects stay until the grace period has passed, then go.
    expect((await objectKeys(backend.objects)).filter((k) => oldKeys.has(k))).toHaveLength(300);
    clock.advance(GRACE_MS + 1000);
    const gc = await maintenance.runOnce();
    expect(gc.errors).toEqual([]);
    const objectsAfter = await objectKeys(backend.objects);
    expect(objectsAfter.filter((k) => oldKeys.has(k))).toEqual([]);
    expect(objectsAfter.length * 10).toBeLessThanOrEqual(objectsBefore);
    expect(gc.cycle?.objects).toBe(objectsAfter.length);
    for (const k of oldKeys) expect(await refsOf(backend.meta, k)).toBeUndefined();
    await expectLossless(new Broker(backend), topic, acked);
    // 300 appends and their compaction take most of a minute on the emulators alone.
  }, 240_000);

  it("keeps offsets, bytes, timestamps and list-offsets answers identical after merging", async () => {
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    // Recent enough that the default retention (7 days) keeps them.
    const t0 = Date.now() - 3_600_000;
    const acked = await produceSmall(broker, topic, 1, 40, 3, { timestamp: (call) => t0 + call * 1000 });
    const before = await broker.fetch({ topic, partition: 0, offset: 0, maxRecords: 1000 });
    const describedBefore = await broker.describeTopic(topic);
    const atTime = await broker.listOffsets(topic, 0, { timestamp: t0 + 17_500 });

    const report = await new Maintenance(backend).runOnce();
    expect(report.compaction.segmentsMerged).toBe(40);
    const segments = await segmentItems(backend.meta, topicId, 0);
    expect(segments.length).toBeLessThan(5);

    const after = await new Broker(backend).fetch({ topic, partition: 0, offset: 0, maxRecords: 1000 });
    expect(after.records).toEqual(before.records);
    expect((await broker.describeTopic(topic)).partitions[0].bytes).toBe(describedBefore.partitions[0].bytes);
    expect(await broker.listOffsets(topic, 0, { timestamp: t0 + 17_500 })).toEqual(atTime);
    const mid = await broker.fetch({ topic, partition: 0, offset: 61, maxRecords: 5 });
    expect(mid.records.map((r) => r.offset)).toEqual([61, 62, 63, 64, 65]);
    await expectLossless(broker, topic, acked);
  });

  it("leaves large segments alone and an idle partition costs no write", async () => {
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const big = new Uint8Array(4000).fill(1);
    for (let i = 0; i < 6; i++) await broker.produce({ topic, records: [{ value: big }] });
    const before = await segmentItems(backend.meta, topicId, 0);
    // With a 4 KiB target, every ~4 KiB segment is already at or above half of it.
    const writes: number[] = [];
    const meta = new HookedMeta(backend.meta);
    meta.afterTransact = (ops) => {
      if (!(ops.length === 1 && ops[0].pk === "maintenance")) writes.push(ops.length);
    };
    const report = await new Maintenance(
      { meta, objects: backend.objects },
      { segmentBytes: 4096 },
    ).runOnce();
    expect(report.compaction.merges).toBe(0);
    expect(report.partitions.leased).toBe(0);
    expect(writes).toEqual([]);
    expect(await segmentItems(backend.meta, topicId, 0)).toEqual(before);
  });

  it("merges a trickle only once enough segments of one generation have gathered", async () => {
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const maintenance = new Maintenance(backend, { minSegmentsPerMerge: 4 });
    const append = (v: string) => broker.produce({ topic, records: [{ value: bytes(v) }] });
    for (const v of ["one", "two", "three"]) await append(v);
    expect((await maintenance.runOnce()).compaction.merges).toBe(0);
    await append("four");
    const report = await maintenance.runOnce();
    expect(report.compaction).toMatchObject({ merges: 1, segmentsMerged: 4 });
    expect(await segmentItems(backend.meta, topicId, 0)).toHaveLength(1);
    expect([...(await readAll(broker, topic, 0))]).toEqual([
      [0, "one"],
      [1, "two"],
      [2, "three"],
      [3, "four"],
    ]);
  });

  it("a slice stops at its budget and the next resumes from the cursor until the pass is complete", async () => {
    const names = [topicName(), topicName(), topicName()];
    for (const name of names) {
      await broker.createTopic(name, 2);
      await produceSmall(broker, name, 2, 8, 2, { concurrency: 1 });
    }
    const maintenance = new Maintenance(backend);
    const slices = [];
    for (let i = 0; i < 100; i++) {
      const report = await maintenance.runOnce({ ops: 3 });
      slices.push(report);
      if (report.cycleComplete) break;
      expect(report.budgetExhausted).toBe(true);
    }
    expect(slices.length).toBeGreaterThan(2);
    expect(slices.at(-1)?.cycleComplete).toBe(true);
    expect(slices.flatMap((r) => r.errors)).toEqual([]);
    // Every partition merged exactly once: nothing skipped, nothing redone.
    expect(slices.reduce((n, r) => n + r.compaction.merges, 0)).toBe(6);
    expect(slices.at(-1)?.cycle).toMatchObject({ partitions: 6, segments: 6 });
    for (const name of names) {
      const { topicId } = await broker.topics.get(name);
      for (const p of [0, 1]) expect(await segmentItems(backend.meta, topicId, p)).toHaveLength(1);
    }
  });
});
