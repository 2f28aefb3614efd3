import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { keys } from "../../src/broker/keys.js";
import { PartitionLeases } from "../../src/broker/lease.js";
import { ConditionFailedError } from "../../src/errors.js";
import { Maintenance } from "../../src/maintenance/maintenance.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import {
  expectCode,
  expectLossless,
  Gate,
  HookedMeta,
  HookedObjects,
  isSwap,
  objectKeys,
  produceSmall,
  SkewClock,
  segmentItems,
} from "./maintenance-fixtures.js";

const LEASE_MS = 30_000;
const GRACE_MS = 10 * 60 * 1000;

describe.each(testBackends)("partition leases on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `l${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeEach(async () => {
    backend = await create();
  });
  afterEach(async () => {
    await backend?.close();
  });

  it("acquire only when free or expired (bumping the epoch), renew, release; describe shows epoch and holder", async () => {
    const clock = new SkewClock();
    broker = new Broker(backend, { clock: clock.now });
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 2);
    const leases = new PartitionLeases(backend.meta, { clock: clock.now, durationMs: LEASE_MS });

    const a = await leases.acquire(topicId, 0, "worker-a");
    expect(a).toMatchObject({ owner: "worker-a", epoch: 1 });
    expect(await leases.acquire(topicId, 0, "worker-b")).toBeNull();
    let described = await broker.describeTopic(topic);
    expect(described.partitions[0]).toMatchObject({
      leaderEpoch: 1,
      leaseOwner: "worker-a",
      leaseExpiry: a!.expiry,
    });
    expect(described.partitions[1]).toMatchObject({ leaderEpoch: 0, leaseOwner: null, leaseExpiry: null });

    // Renewing moves the expiry; the lease is still A's after the first term would have ended.
    clock.advance(LEASE_MS - 1000);
    await leases.renew(a!);
    clock.advance(2000);
    expect(await leases.acquire(topicId, 0, "worker-b")).toBeNull();

    // Past expiry anyone may take it, with the next epoch, and A is fenced from then on.
    clock.advance(LEASE_MS);
    expect((await broker.describeTopic(topic)).partitions[0].leaseOwner).toBeNull();
    const b = await leases.acquire(topicId, 0, "worker-b");
    expect(b).toMatchObject({ owner: "worker-b", epoch: 2 });
    await expectCode(leases.renew(a!), "FENCED_LEADER_EPOCH");
    expect(await leases.release(a!)).toBe(false);
    await expect(backend.meta.transact([leases.fence(a!)])).rejects.toBeInstanceOf(ConditionFailedError);
    await backend.meta.transact([leases.fence(b!)]);

    described = await broker.describeTopic(topic);
    expect(described.partitions[0]).toMatchObject({ leaderEpoch: 2, leaseOwner: "worker-b" });
    expect(await leases.release(b!, { note: "for the next holder" })).toBe(true);
    described = await broker.describeTopic(topic);
    expect(described.partitions[0]).toMatchObject({ leaderEpoch: 2, leaseOwner: null, leaseExpiry: null });

    // Released means free at once; the epoch keeps growing and the checkpoint is handed on.
    const c = await leases.acquire(topicId, 0, "worker-c");
    expect(c).toMatchObject({ epoch: 3, checkpoint: { note: "for the next holder" } });
  });

  it("of many racing acquirers exactly one wins", async () => {
    const leases = new PartitionLeases(backend.meta, { clock: Date.now, durationMs: LEASE_MS });
    const topicId = "6d3a3b1e-1f44-4c1e-9a51-0f7b7c4f9e01";
    const won = await Promise.all(
      Array.from({ length: 8 }, (_, i) => leases.acquire(topicId, 0, `worker-${i}`)),
    );
    expect(won.filter((l) => l !== null)).toHaveLength(1);
    expect(won.find((l) => l !== null)!.epoch).toBe(1);
  });

  it("two maintenance workers on one partition: while one holds the lease the other does nothing there", async () => {
    broker = new Broker(backend);
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const acked = await produceSmall(broker, topic, 1, 40, 5);
    const before = await segmentItems(backend.meta, topicId, 0);

    // A pauses right after writing its first merged object, holding the lease.
    const gate = new Gate();
    const aObjects = new HookedObjects(backend.objects);
    aObjects.afterPut = () => gate.pass();
    const a = new Maintenance({ meta: backend.meta, objects: aObjects }, { owner: "a" });
    const b = new Maintenance(backend, { owner: "b" });
    const running = a.runOnce();
    await gate.reached;

    expect((await broker.describeTopic(topic)).partitions[0].leaseOwner).toBe("a");
    const bReport = await b.runOnce();
    expect(bReport.partitions).toMatchObject({ busy: 1, leased: 0 });
    expect(bReport.compaction.merges).toBe(0);
    expect(await segmentItems(backend.meta, topicId, 0)).toEqual(before);

    gate.open();
    const aReport = await running;
    expect(aReport.errors).toEqual([]);
    expect(aReport.compaction.segmentsMerged).toBe(40);
    expect((await broker.describeTopic(topic)).partitions[0]).toMatchObject({
      leaseOwner: null,
      leaderEpoch: 1,
    });
    await expectLossless(broker, topic, acked);
  });

  it("a worker paused past its lease is fenced: its late index swap is refused and the log stays whole", async () => {
    const clock = new SkewClock();
    broker = new Broker(backend);
    const topic = topicName();
    const { topicId } = await broker.createTopic(topic, 1);
    const acked = await produceSmall(broker, topic, 1, 40, 5);

    // A stalls just before its swap (after it last checked its lease), for longer than the lease.
    const gate = new Gate();
    const aMeta = new HookedMeta(backend.meta);
    aMeta.beforeTransact = async (ops) => {
      if (isSwap(ops)) await gate.pass();
    };
    const aObjects = new HookedObjects(backend.objects);
    const aWrote: string[] = [];
    aObjects.afterPut = (key) => {
      aWrote.push(key);
    };
    const options = { clock: clock.now, leaseMs: LEASE_MS };
    const a = new Maintenance({ meta: aMeta, objects: aObjects }, { ...options, owner: "a" });
    const running = a.runOnce();
    await gate.reached;

    clock.advance(LEASE_MS + 1);
    const b = new Maintenance(backend, { ...options, owner: "b" });
    const bReport = await b.runOnce();
    expect(bReport.compaction.segmentsMerged).toBe(40);
    const afterB = await segmentItems(backend.meta, topicId, 0);
    expect((await broker.describeTopic(topic)).partitions[0].leaderEpoch).toBe(2);

    gate.open();
    const aReport = await running;
    expect(aReport.partitions.fenced).toBe(1);
    expect(aReport.compaction.merges).toBe(0);
    expect(await segmentItems(backend.meta, topicId, 0)).toEqual(afterB);
    await expectLossless(broker, topic, acked);

    // A's merged object was never indexed: an orphan, collected once the grace period has passed.
    expect(aWrote).toHaveLength(1);
    const orphan = aWrote[0];
    const k = keys.objectRef(orphan);
    expect(await backend.meta.get(k.pk, k.sk)).toBeUndefined();
    clock.advance(GRACE_MS + 1000);
    const gc = await b.runOnce();
    expect(gc.gc.orphansDeleted).toBeGreaterThanOrEqual(1);
    expect(await objectKeys(backend.objects)).not.toContain(orphan);
    await expectLossless(new Broker(backend), topic, acked);
  });
});
