import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { segmentObjectKey } from "../../src/broker/segment-key.js";
import { encodeRecordBatch } from "../../src/log/record-batch.js";
import { encodeSegment } from "../../src/log/segment.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import type { Backend, WriteOp } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import {
  type Acked,
  bytes,
  expectLossless,
  Gate,
  HookedMeta,
  HookedObjects,
  isSwap,
  objectKeys,
  once,
  produceSmall,
  refsOf,
  SkewClock,
  segmentItems,
  text,
} from "./maintenance-fixtures.js";

const HOUR = 3_600_000;
const GRACE_MS = 10 * 60 * 1000;
const PAST_GRACE = GRACE_MS + 1000;

/** Whether a transaction is a retention step: it rewrites a head under a lease. */
function isRetention(ops: WriteOp[]): boolean {
  return (
    ops[0]?.type === "check" &&
    ops[0].sk === "lease" &&
    ops.some((op) => op.type === "put" && op.sk === "head")
  );
}

describe.each(testBackends)("garbage collection and faults on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `g${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeEach(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterEach(async () => {
    await backend?.close();
  });

  async function indexedKeys(topicId: string, partitions: number): Promise<Set<string>> {
    const out = new Set<string>();
    for (let p = 0; p < partitions; p++) {
      for (const item of await segmentItems(backend.meta, topicId, p)) out.add(String(item.data.key));
    }
    return out;
  }

  it("never deletes a referenced object; deletes an orphan and an emptied object only a grace period later", async () => {
    const clock = new SkewClock();
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const acked = await produceSmall(broker, topic, 1, 10, 3);
    const referenced = await indexedKeys(topicId, 1);
    // An object whose commit never happened: no ref item at all.
    const orphan = segmentObjectKey(Date.now());
    await backend.objects.put(
      orphan,
      encodeSegment([
        {
          topicId,
          partition: 0,
          data: encodeRecordBatch([{ key: null, value: bytes("x"), headers: [], timestamp: 1 }]),
        },
      ]).bytes,
    );

    // Garbage collection alone: nothing here is due for merging.
    const gcOnly = new Maintenance(backend, { clock: clock.now, minSegmentsPerMerge: 30 });
    expect((await gcOnly.runOnce()).gc.objectsDeleted).toBe(0);
    expect(await objectKeys(backend.objects)).toContain(orphan);

    clock.advance(PAST_GRACE);
    const report = await gcOnly.runOnce();
    expect(report.gc).toMatchObject({ objectsDeleted: 1, orphansDeleted: 1 });
    expect(new Set(await objectKeys(backend.objects))).toEqual(referenced);
    // The claim on the orphan's key stays, so a late commit of it can never be indexed.
    expect((await refsOf(backend.meta, orphan))?.data).toMatchObject({
      refs: [],
      collectedAt: expect.any(Number),
    });
    await expectLossless(broker, topic, acked);

    // Merging empties the ten objects now; they are old, but their grace runs from emptiedAt.
    const merging = new Maintenance(backend, { clock: clock.now });
    const mergedFrom = clock.now();
    const merged = await merging.runOnce();
    expect(merged.compaction.segmentsMerged).toBe(10);
    expect(merged.gc.objectsDeleted).toBe(0);
    for (const key of referenced) {
      const data = (await refsOf(backend.meta, key))?.data;
      expect(data?.refs).toEqual([]);
      expect(data?.emptiedAt).toBeGreaterThanOrEqual(mergedFrom);
    }
    expect(await objectKeys(backend.objects)).toHaveLength(11);

    clock.advance(PAST_GRACE);
    expect((await merging.runOnce()).gc.objectsDeleted).toBe(10);
    expect(new Set(await objectKeys(backend.objects))).toEqual(await indexedKeys(topicId, 1));
    for (const key of referenced) expect(await refsOf(backend.meta, key)).toBeUndefined();
    await expectLossless(new Broker(backend), topic, acked);
  });

  it("a commit arriving after its object was collected as an orphan is refused; the append goes again with a new object", async () => {
    const clock = new SkewClock();
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const meta = new HookedMeta(backend.meta);
    const gate = new Gate();
    meta.beforeTransact = async (ops) => {
      if (ops.some((op) => op.sk === "head")) await gate.pass();
    };
    // Time enough to go again however long the collection takes on a loaded machine.
    const slow = new Broker({ meta, objects: backend.objects }, { requestTimeoutMs: 60_000 });
    const produced = slow.produce({ topic, records: [{ value: bytes("late") }] });
    await gate.reached;

    clock.advance(PAST_GRACE);
    expect((await new Maintenance(backend, { clock: clock.now }).runOnce()).gc.orphansDeleted).toBe(1);
    expect(await objectKeys(backend.objects)).toEqual([]);
    gate.open();
    // Acknowledged only once indexed in an object that exists: the collected one is never referenced.
    expect(await produced).toEqual([{ partition: 0, offset: 0 }]);
    const read = await broker.fetch({ topic, partition: 0, offset: 0 });
    expect(read.records.map((r) => text(r.value))).toEqual(["late"]);
    expect(await objectKeys(backend.objects)).toHaveLength(1);
  });

  const faults: {
    name: string;
    arm(meta: HookedMeta, objects: HookedObjects, fired: () => void): void;
  }[] = [
    {
      name: "the merged object's PUT fails",
      arm: (_m, o, fired) =>
        (o.beforePut = fire(
          once(() => true, "PUT failed"),
          fired,
        )),
    },
    {
      name: "the worker dies right after writing the merged object",
      arm: (_m, o, fired) =>
        (o.afterPut = fire(
          once(() => true, "crashed after PUT"),
          fired,
        )),
    },
    {
      name: "the index swap fails",
      arm: (m, _o, fired) => (m.beforeTransact = fire(once(isSwap, "swap failed"), fired)),
    },
    {
      name: "the worker dies right after the index swap",
      arm: (m, _o, fired) => (m.afterTransact = fire(once(isSwap, "crashed after swap"), fired)),
    },
    {
      name: "the worker dies right after a retention commit",
      arm: (m, _o, fired) => (m.afterTransact = fire(once(isRetention, "crashed after retention"), fired)),
    },
    {
      name: "the worker dies right after deleting an old object",
      arm: (_m, o, fired) =>
        (o.afterDelete = fire(
          once(() => true, "crashed after DELETE"),
          fired,
        )),
    },
  ];

  it.each(faults)(
    "fault: $name — the log stays readable and lossless, a later run finishes the job",
    async ({ arm }) => {
      const clock = new SkewClock();
      const topic = topicName();
      const { topicId } = await broker.createTopic(topic, 2, { "retention.ms": String(HOUR) });
      const now = Date.now();
      // Ten old appends retention will drop (partition 0 gets 3 records of each, partition 1 gets 2).
      await produceSmall(broker, topic, 2, 10, 5, { timestamp: () => now - 2 * HOUR });
      const recent = await produceSmall(broker, topic, 2, 30, 5);
      const logStart = [30, 20];
      const check = async () => {
        const described = await broker.describeTopic(topic);
        for (const p of [0, 1]) expect([0, logStart[p]]).toContain(described.partitions[p].logStartOffset);
        await expectLossless(new Broker(backend), topic, recent as Acked, logStart);
      };

      const meta = new HookedMeta(backend.meta);
      const objects = new HookedObjects(backend.objects);
      let fired = false;
      arm(meta, objects, () => (fired = true));
      const faulty = new Maintenance({ meta, objects }, { clock: clock.now });
      const errors: string[] = [];
      for (let i = 0; i < 2; i++) {
        errors.push(...(await faulty.runOnce()).errors.map((e) => e.message));
        await check();
        clock.advance(PAST_GRACE);
      }
      expect(fired).toBe(true);
      expect(errors.some((m) => m.startsWith("injected"))).toBe(true);

      const clean = new Maintenance(backend, { clock: clock.now });
      for (let i = 0; i < 2; i++) {
        expect((await clean.runOnce()).errors).toEqual([]);
        clock.advance(PAST_GRACE);
      }
      expect((await clean.runOnce()).errors).toEqual([]);
      await check();
      const described = await broker.describeTopic(topic);
      expect(described.partitions.map((p) => p.logStartOffset)).toEqual(logStart);
      // Finished: merged down, and exactly the indexed objects are left in the bucket.
      for (const p of [0, 1])
        expect((await segmentItems(backend.meta, topicId, p)).length).toBeLessThanOrEqual(3);
      expect(new Set(await objectKeys(backend.objects))).toEqual(await indexedKeys(topicId, 2));
    },
  );
});

function fire<A extends unknown[]>(
  hook: ((...args: A) => void | Promise<void>) | undefined,
  fired: () => void,
) {
  return async (...args: A) => {
    try {
      await hook?.(...args);
    } catch (e) {
      fired();
      throw e;
    }
  };
}
