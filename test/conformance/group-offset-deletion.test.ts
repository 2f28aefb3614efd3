import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { GroupCoordinator } from "../../src/groups/coordinator.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode } from "../support/faults.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe.each(testBackends)("deleting committed offsets on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let now = 1_700_000_000_000;
  const clock = () => now;
  let n = 0;
  const unique = (prefix: string) => `${prefix}${++n}-${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  async function topicWithRecords(prefix: string, partitions: number): Promise<string> {
    const topic = unique(prefix);
    await broker.createTopic(topic, partitions);
    for (let p = 0; p < partitions; p++) {
      await broker.produce({
        topic,
        records: [
          { partition: p, value: bytes("a") },
          { partition: p, value: bytes("b") },
        ],
      });
    }
    return topic;
  }

  it("deletes the offsets of an empty group's partitions, leaving the others", async () => {
    const topic = await topicWithRecords("od", 3);
    const groupId = unique("g");
    const c = new GroupCoordinator({ meta: backend.meta, broker, clock });
    await c.commitOffsets(groupId, {
      offsets: [0, 1, 2].map((partition) => ({ topic, partition, offset: 2 })),
    });
    // Partition 7 does not exist: nothing to delete, and no error (Kafka checks topics, not offsets).
    expect(await c.deleteOffsets(groupId, [{ topic, partitions: [0, 2, 7] }])).toEqual([
      { topic, partition: 0 },
      { topic, partition: 2 },
      { topic, partition: 7 },
    ]);
    expect((await c.fetchOffsets(groupId)).map((o) => o.partition)).toEqual([1]);
    // Deleting again is not an error: there is simply nothing left.
    expect(await c.deleteOffsets(groupId, [{ topic, partitions: [0] }])).toEqual([{ topic, partition: 0 }]);
  });

  it("keeps the offsets of topics a member subscribes to, by name or by pattern: GROUP_SUBSCRIBED_TO_TOPIC", async () => {
    const stem = unique("sub");
    const named = `${stem}-named`;
    const matched = `${stem}-matched`;
    const free = `${stem}-free`;
    for (const t of [named, matched, free]) {
      await broker.createTopic(t, 1);
      await broker.produce({ topic: t, records: [{ value: bytes("x") }] });
    }
    const groupId = unique("g");
    const c = new GroupCoordinator({ meta: backend.meta, broker, clock });
    await c.commitOffsets(groupId, {
      offsets: [named, matched, free].map((topic) => ({ topic, partition: 0, offset: 1 })),
    });
    await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [named] });
    await c.heartbeat(groupId, {
      memberEpoch: 0,
      subscribedTopics: [],
      subscribedTopicRegex: `${stem}-mat.*`,
    });

    expect(
      await c.deleteOffsets(groupId, [
        { topic: named, partitions: [0] },
        { topic: matched, partitions: [0] },
        { topic: free, partitions: [0] },
      ]),
    ).toEqual([
      { topic: named, partition: 0, error: "GROUP_SUBSCRIBED_TO_TOPIC" },
      { topic: matched, partition: 0, error: "GROUP_SUBSCRIBED_TO_TOPIC" },
      { topic: free, partition: 0 },
    ]);
    expect((await c.fetchOffsets(groupId)).map((o) => o.topic).sort()).toEqual([matched, named].sort());
  });

  it("treats members whose session expired as gone", async () => {
    const topic = await topicWithRecords("exp", 1);
    const groupId = unique("g");
    const c = new GroupCoordinator({
      meta: backend.meta,
      broker,
      clock,
      sessionTimeoutMs: 10_000,
      heartbeatIntervalMs: 1_000,
    });
    await c.commitOffsets(groupId, { offsets: [{ topic, partition: 0, offset: 1 }] });
    await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    expect((await c.deleteOffsets(groupId, [{ topic, partitions: [0] }]))[0].error).toBe(
      "GROUP_SUBSCRIBED_TO_TOPIC",
    );
    now += 11_000;
    expect(await c.deleteOffsets(groupId, [{ topic, partitions: [0] }])).toEqual([{ topic, partition: 0 }]);
    expect(await c.fetchOffsets(groupId)).toEqual([]);
  });

  it("answers GROUP_ID_NOT_FOUND for a group that does not exist, or no longer does", async () => {
    const topic = await topicWithRecords("gone", 1);
    const groupId = unique("g");
    const c = new GroupCoordinator({ meta: backend.meta, broker, clock });
    await expectCode(c.deleteOffsets(groupId, [{ topic, partitions: [0] }]), "GROUP_ID_NOT_FOUND");
    await c.commitOffsets(groupId, { offsets: [{ topic, partition: 0, offset: 1 }] });
    await c.delete(groupId);
    await expectCode(c.deleteOffsets(groupId, [{ topic, partitions: [0] }]), "GROUP_ID_NOT_FOUND");
    await expectCode(c.deleteOffsets("", [{ topic, partitions: [0] }]), "INVALID_GROUP_ID");
  });

  it("deletes more offsets than one transaction holds", async () => {
    const topic = await topicWithRecords("many", 120);
    const groupId = unique("g");
    const c = new GroupCoordinator({ meta: backend.meta, broker, clock });
    const all = Array.from({ length: 120 }, (_, p) => p);
    await c.commitOffsets(groupId, { offsets: all.map((partition) => ({ topic, partition, offset: 1 })) });
    const results = await c.deleteOffsets(groupId, [{ topic, partitions: all }]);
    expect(results.every((r) => r.error === undefined)).toBe(true);
    expect(await c.fetchOffsets(groupId)).toEqual([]);
  });
});
