/**
 * A subscription's life against a real broker and group coordinator on every backend: the starting
 * offsets committed at creation, the status summed from stats and the group's lag, and deletion
 * waiting for the dispatcher to leave the group.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import { commitStartingOffsets } from "../../src/subscriptions/starting-position.js";
import { createSubscription } from "../../src/subscriptions/subscription-creation.js";
import { deleteSubscription } from "../../src/subscriptions/subscription-deletion.js";
import { describeSubscription } from "../../src/subscriptions/subscription-status.js";
import { SubscriptionStore } from "../../src/subscriptions/subscription-store.js";
import type { PartitionDeliveryStats, SubscriptionInput } from "../../src/subscriptions/types.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode, FaultyMeta } from "../support/faults.js";

const http = { type: "http" as const, url: "https://example.com/hook" };
let counter = 0;
const unique = (label: string) => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
const bytes = (s: string) => new TextEncoder().encode(s);

describe.each(testBackends)("subscription lifecycle: $name", ({ name, create }) => {
  let backend: Backend;
  let broker: Broker;
  let groups: GroupCoordinator;
  let store: SubscriptionStore;

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
    groups = new GroupCoordinator({ meta: backend.meta, broker });
    store = new SubscriptionStore(backend.meta);
  });
  afterAll(async () => {
    await backend?.close();
  });

  /** A topic with `perPartition[p]` records in partition p, record i of each stamped at timestamp 1000 + i. */
  async function topicWith(perPartition: number[]): Promise<string> {
    const topic = unique("t");
    await broker.createTopic(topic, perPartition.length);
    for (const [partition, n] of perPartition.entries()) {
      if (n === 0) continue;
      const records = Array.from({ length: n }, (_, i) => ({
        value: bytes(`v${i}`),
        partition,
        timestamp: 1000 + i,
      }));
      await broker.produce({ topic, records });
    }
    return topic;
  }

  async function created(input: Omit<SubscriptionInput, "target">) {
    const s = await store.create(unique("s"), { target: http, ...input });
    await commitStartingOffsets(broker, groups, s);
    return s;
  }

  const committed = async (groupId: string) =>
    (await groups.fetchOffsets(groupId)).map((o) => [o.topic, o.partition, o.offset]);

  it("LATEST commits every existing partition's high-water mark", async () => {
    const topic = await topicWith([3, 0, 5]);
    const s = await created({ topics: [topic, unique("absent")] });
    expect(await committed(s.groupId)).toEqual([
      [topic, 0, 3],
      [topic, 1, 0],
      [topic, 2, 5],
    ]);
  });

  it("TRIM_HORIZON commits the log start; AT_TIMESTAMP the first record at or after the time", async () => {
    const topic = await topicWith([4, 2]);
    const trim = await created({ topics: [topic], startingPosition: "TRIM_HORIZON" });
    expect(await committed(trim.groupId)).toEqual([
      [topic, 0, 0],
      [topic, 1, 0],
    ]);
    const at = await created({
      topics: [topic],
      startingPosition: "AT_TIMESTAMP",
      startingPositionTimestamp: 1002,
    });
    // Partition 1 has nothing that late: it starts at its end.
    expect(await committed(at.groupId)).toEqual([
      [topic, 0, 2],
      [topic, 1, 2],
    ]);
  });

  it("a regex takes every topic whose whole name it matches", async () => {
    const prefix = unique("rx").replaceAll("-", "_");
    await broker.createTopic(`${prefix}.a`, 1);
    await broker.createTopic(`${prefix}.b`, 1);
    await broker.createTopic(`${prefix}.a-dlq`, 1);
    await broker.produce({ topic: `${prefix}.a`, records: [{ value: bytes("x") }] });
    const s = await created({ topicRegex: `${prefix}\\.[ab]` });
    expect(await committed(s.groupId)).toEqual([
      [`${prefix}.a`, 0, 1],
      [`${prefix}.b`, 0, 0],
    ]);
  });

  // The chunking is the same code on every backend; 1,200 partitions take ~25 s on DynamoDB Local.
  it.runIf(name === "memory")("commits in chunks when the matched partitions are many", async () => {
    const topic = unique("wide");
    await broker.createTopic(topic, 1200);
    const s = await created({ topics: [topic], startingPosition: "TRIM_HORIZON" });
    expect(await committed(s.groupId)).toHaveLength(1200);
  });

  it("describes the summed stats, the group's lag and the oldest undelivered record's age", async () => {
    const topic = await topicWith([5, 5]);
    const s = await created({ topics: [topic], startingPosition: "TRIM_HORIZON" });
    await groups.commitOffsets(s.groupId, { offsets: [{ topic, partition: 0, offset: 5 }] });
    const stats = (partition: number, over: Partial<PartitionDeliveryStats>): PartitionDeliveryStats => ({
      topic,
      partition,
      delivered: 0,
      failed: 0,
      retried: 0,
      filtered: 0,
      oldestUndeliveredTimestamp: null,
      lastError: null,
      updatedAt: 1,
      ...over,
    });
    const error = (at: number) => ({ message: `boom ${at}`, at, topic, partition: 1 });
    // Partition 0's timestamp is stale (its lag is 0): it must not count.
    await store.writeStats(
      s.name,
      stats(0, { delivered: 5, retried: 2, oldestUndeliveredTimestamp: 10, lastError: error(50) }),
    );
    await store.writeStats(
      s.name,
      stats(1, { failed: 1, filtered: 3, oldestUndeliveredTimestamp: 1000, lastError: error(60) }),
    );
    const d = await describeSubscription(store, groups, s.name, 5000, broker);
    expect(d.name).toBe(s.name);
    expect(d.status).toMatchObject({
      delivered: 5,
      failed: 1,
      retried: 2,
      filtered: 3,
      lag: 5,
      oldestUndeliveredAgeMs: 4000,
      lastError: error(60),
    });
    expect(d.status.partitions.map((p) => [p.partition, p.committedOffset, p.highWatermark, p.lag])).toEqual([
      [0, 5, 5, 0],
      [1, 0, 5, 5],
    ]);
    await expectCode(describeSubscription(store, groups, unique("missing"), 0), "RESOURCE_NOT_FOUND");
  });

  it("counts a partition with stats but no commit from its log start", async () => {
    const topic = await topicWith([0]);
    const s = await created({ topics: [topic] });
    await topicWithRecords(topic, 3);
    await store.writeStats(s.name, {
      topic,
      partition: 0,
      delivered: 0,
      failed: 0,
      retried: 0,
      filtered: 0,
      oldestUndeliveredTimestamp: 100,
      lastError: null,
      updatedAt: 1,
    });
    // Its committed offset (0, at creation) is there; drop it to model a partition that appeared later.
    await groups.delete(s.groupId);
    const d = await describeSubscription(store, groups, s.name, 1000, broker);
    expect(d.status.partitions).toMatchObject([
      { partition: 0, committedOffset: null, highWatermark: 3, lag: 3 },
    ]);
    expect(d.status.oldestUndeliveredAgeMs).toBe(900);
  });

  async function topicWithRecords(topic: string, n: number): Promise<void> {
    await broker.produce({
      topic,
      records: Array.from({ length: n }, (_, i) => ({ value: bytes(`${i}`), partition: 0 })),
    });
  }

  it("deletion waits for the dispatcher to leave the group, then removes group and definition", async () => {
    const topic = await topicWith([1]);
    const s = await created({ topics: [topic] });
    await store.writeStats(s.name, {
      topic,
      partition: 0,
      delivered: 1,
      failed: 0,
      retried: 0,
      filtered: 0,
      oldestUndeliveredTimestamp: null,
      lastError: null,
      updatedAt: 1,
    });
    const joined = await groups.heartbeat(s.groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    expect(await deleteSubscription(store, groups, s.name)).toEqual({ state: "Deleting" });
    expect((await store.get(s.name))?.state).toBe("Deleting");
    expect(await deleteSubscription(store, groups, s.name)).toEqual({ state: "Deleting" });
    await groups.heartbeat(s.groupId, { memberId: joined.memberId, memberEpoch: -1 });
    expect(await deleteSubscription(store, groups, s.name)).toEqual({ state: "Deleted" });
    expect(await store.get(s.name)).toBeUndefined();
    expect(await store.readStats(s.name)).toEqual([]);
    await expectCode(groups.describe(s.groupId), "GROUP_ID_NOT_FOUND");
    await expectCode(deleteSubscription(store, groups, s.name), "RESOURCE_NOT_FOUND");
  });

  it("deletes at once a subscription that never had a group", async () => {
    const s = await created({ topics: [unique("absent")] });
    expect(await deleteSubscription(store, groups, s.name)).toEqual({ state: "Deleted" });
    expect(await store.get(s.name)).toBeUndefined();
  });

  it("creation commits the starting offsets before the subscription is enabled, and takes the state asked for", async () => {
    const topic = await topicWith([2]);
    const enabled = await createSubscription(store, broker, groups, unique("c"), {
      topics: [topic],
      target: http,
    });
    expect(enabled).toMatchObject({ state: "Enabled", version: 2 });
    expect(await committed(enabled.groupId)).toEqual([[topic, 0, 2]]);
    const paused = await createSubscription(store, broker, groups, unique("c"), {
      topics: [topic],
      target: http,
      state: "Disabled",
    });
    expect(paused).toMatchObject({ state: "Disabled", version: 1 });
    const deleting = unique("c");
    const input = { topics: [topic], target: http, state: "Deleting" as "Disabled" };
    await expectCode(createSubscription(store, broker, groups, deleting, input), "INVALID_CONFIG");
    expect(await store.get(deleting)).toBeUndefined();
  });

  it("a creation whose offsets cannot be committed leaves neither definition nor group", async () => {
    const topic = await topicWith([2]);
    const faulty = new FaultyMeta(backend.meta);
    const faultyGroups = new GroupCoordinator({ meta: faulty, broker });
    const faultyStore = new SubscriptionStore(faulty);
    const name = unique("c");
    // The definition is written; the commit then fails (a storage error is not retried there).
    faulty.failures = ["ok", "storage"];
    await expectCode(
      createSubscription(faultyStore, broker, faultyGroups, name, { topics: [topic], target: http }),
      "KAFKA_STORAGE_ERROR",
    );
    faulty.failures = [];
    expect(await store.get(name)).toBeUndefined();
    await expectCode(groups.describe(`floe-subscription-${name}`), "GROUP_ID_NOT_FOUND");
  });

  it("creation refuses a name whose group exists, before writing anything", async () => {
    const topic = await topicWith([3]);
    const name = unique("c");
    await groups.commitOffsets(`floe-subscription-${name}`, {
      offsets: [{ topic, partition: 0, offset: 1 }],
    });
    await expectCode(
      createSubscription(store, broker, groups, name, { topics: [topic], target: http }),
      "DUPLICATE_RESOURCE",
    );
    expect(await store.get(name)).toBeUndefined();
    expect(await committed(`floe-subscription-${name}`)).toEqual([[topic, 0, 1]]);
  });
});
