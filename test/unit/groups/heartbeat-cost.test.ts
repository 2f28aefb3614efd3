import { describe, expect, it } from "vitest";
import { Broker } from "../../../src/broker/broker.js";
import { GroupCoordinator } from "../../../src/groups/coordinator.js";
import { groupKeys } from "../../../src/groups/keys.js";
import type { HeartbeatResponse } from "../../../src/groups/types.js";
import { createBackend } from "../../../src/storage/backend.js";
import { instrumentBackend } from "../../../src/storage/instrumented.js";
import type { Doc } from "../../../src/storage/ports.js";

/**
 * Issue 11, item 2: a heartbeat reads and writes a bounded number of items, whatever the group's
 * size (decision 0012). Every heartbeat used to read every member item, so a 300-member group cost
 * thirty times a 10-member one. Counted on the real in-memory store through the counting wrapper
 * the benchmark uses; the coordinator is the real one.
 */

const TOPIC = "t";

interface Member {
  memberId: string;
  epoch: number;
  owned: HeartbeatResponse["assignment"];
}

async function stableGroup(size: number, partitions: number) {
  const counted = instrumentBackend(await createBackend({ storage: "memory" }));
  const backend = counted.backend;
  const broker = new Broker(backend);
  await broker.createTopic(TOPIC, partitions);
  let now = 1_000_000;
  const coordinator = new GroupCoordinator({ meta: backend.meta, broker, clock: () => now });
  // Another process serving the same group: its own expiry schedule, its own cache.
  const elsewhere = new GroupCoordinator({ meta: backend.meta, broker, clock: () => now });
  const members: Member[] = [];
  for (let i = 0; i < size; i++) {
    const r = await coordinator.heartbeat("g", { memberEpoch: 0, subscribedTopics: [TOPIC] });
    members.push({ memberId: r.memberId, epoch: r.memberEpoch, owned: r.assignment });
  }
  const beat = async (m: Member) => {
    const r = await coordinator.heartbeat("g", {
      memberId: m.memberId,
      memberEpoch: m.epoch,
      ownedPartitions: m.owned,
    });
    m.epoch = r.memberEpoch;
    m.owned = r.assignment;
  };
  // Rounds until every member holds its target at the group's epoch.
  for (let round = 0; round < 10 && (await coordinator.describe("g")).state !== "Stable"; round++) {
    now += 1_000;
    for (const m of members) await beat(m);
  }
  expect((await coordinator.describe("g")).state).toBe("Stable");
  return {
    counted,
    backend,
    broker,
    coordinator,
    elsewhere,
    members,
    beat,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe("heartbeat cost against the group's size", () => {
  it("a steady heartbeat reads and writes as many items in a 300-member group as in a 10-member one", async () => {
    const costs = [];
    for (const size of [10, 300]) {
      const g = await stableGroup(size, 16);
      // One member that owns a partition and one that owns none (more members than partitions).
      const sampled = [g.members[0], g.members[size - 1]];
      g.advance(1_000);
      for (const m of sampled) await g.beat(m);
      g.counted.reset();
      for (const m of sampled) await g.beat(m);
      const { gets, queries, itemsRead, transacts, itemsWritten, checks } = g.counted.counts().meta;
      costs.push({ gets, queries, itemsRead, transacts, itemsWritten, checks });
    }
    const [small, large] = costs;
    expect(large).toEqual(small);
    // The meta item, the member's target shard and its own item; one write of its own item.
    expect(small).toEqual({ gets: 6, queries: 0, itemsRead: 6, transacts: 2, itemsWritten: 2, checks: 2 });
  });

  it("a member taking over a partition reads only the member that held it", async () => {
    const g = await stableGroup(40, 80);
    g.advance(1_000);
    // A join moves a partition or two to the newcomer, still held by others.
    const joined = await g.coordinator.heartbeat("g", { memberEpoch: 0, subscribedTopics: [TOPIC] });
    expect(joined.assignment).toEqual([]);
    for (const m of g.members) await g.beat(m);
    for (const m of g.members) await g.beat(m);
    g.counted.reset();
    const newcomer: Member = { memberId: joined.memberId, epoch: joined.memberEpoch, owned: [] };
    await g.beat(newcomer);
    // Meta, its shard, its own item, and the (one or two) members the meta item names as holders.
    const acquiring = g.counted.counts().meta;
    expect(acquiring.queries).toBe(0);
    expect(acquiring.itemsRead).toBeLessThanOrEqual(5);
    const target = (await g.coordinator.describe("g")).members.find(
      (m) => m.memberId === joined.memberId,
    )!.targetAssignment;
    expect(newcomer.owned).toEqual(target);
    expect(target[0].partitions.length).toBeGreaterThan(0);
    // Holding its whole target, it reads nobody else's item.
    g.counted.reset();
    await g.beat(newcomer);
    expect(g.counted.counts().meta.queries).toBe(0);
    expect(g.counted.counts().meta.itemsRead).toBe(3);
  });

  it("a member that stops heartbeating is expired by the others' heartbeats alone, within its session", async () => {
    const g = await stableGroup(3, 6);
    const [a, b, silent] = g.members;
    const orphaned = silent.owned[0].partitions;
    // Within the session timeout the silent member keeps its partitions.
    for (let t = 0; t < 40_000; t += 5_000) {
      g.advance(5_000);
      await g.beat(a);
      await g.beat(b);
    }
    const before = await g.coordinator.describe("g");
    expect(before.members).toHaveLength(3);
    g.advance(6_000);
    // No describe in between: the heartbeats themselves notice the lapse and rebalance.
    for (let round = 0; round < 4; round++) {
      await g.beat(a);
      await g.beat(b);
    }
    const taken = [...a.owned, ...b.owned].flatMap((tp) => tp.partitions);
    for (const p of orphaned) expect(taken).toContain(p);
    expect(taken).toHaveLength(6);
  });

  it("a group stored before meta carried shards, subscriptions and holders is upgraded by its next heartbeat", async () => {
    const g = await stableGroup(4, 8);
    const k = groupKeys.meta("g");
    const item = (await g.backend.meta.get(k.pk, k.sk))!;
    // The format before decision 0012: the whole target inline, nothing else new.
    const { subscriptions: _s, releasing: _r, shards: _h, ...legacy } = item.data;
    const target: Doc[] = (await g.coordinator.describe("g")).members.map((m) => ({
      memberId: m.memberId,
      assignment: m.targetAssignment.map(({ topic, partitions }) => ({ topic, partitions })),
    }));
    await g.backend.meta.transact([
      { type: "put", ...k, data: { ...legacy, target }, condition: { version: item.version } },
    ]);
    g.advance(1_000);
    for (let round = 0; round < 3; round++) for (const m of g.members) await g.beat(m);
    const upgraded = (await g.backend.meta.get(k.pk, k.sk))!.data;
    expect(upgraded).toHaveProperty("subscriptions");
    expect(upgraded).toHaveProperty("releasing");
    expect(upgraded).toHaveProperty("shards");
    expect(upgraded).not.toHaveProperty("target");
    const d = await g.coordinator.describe("g");
    expect(d.state).toBe("Stable");
    expect(g.members.map((m) => m.owned[0].partitions.length)).toEqual([2, 2, 2, 2]);
  });
});

/**
 * Issue 11, item 2, for commits: a member commits about as often as it heartbeats, and each commit
 * read every member item to check the committing one. It now reads the meta item and its own item.
 */
describe("offset commit cost against the group's size", () => {
  const commit = (coordinator: GroupCoordinator, m: Member, epoch = m.epoch) =>
    coordinator.commitOffsets("g", {
      memberId: m.memberId,
      memberEpoch: epoch,
      // One partition it owns, so groups of either size commit alike.
      offsets: [{ topic: TOPIC, partition: m.owned[0].partitions[0], offset: 0 }],
    });

  it("a member's commit, accepted or refused, reads as many items in a 300-member group as in a 10-member one", async () => {
    const costs = [];
    for (const size of [10, 300]) {
      const g = await stableGroup(size, 16);
      const [a, b] = g.members;
      g.advance(1_000);
      await commit(g.coordinator, a);
      g.counted.reset();
      await commit(g.coordinator, a);
      await commit(g.coordinator, b);
      await expect(commit(g.coordinator, a, a.epoch - 1)).rejects.toMatchObject({
        code: "STALE_MEMBER_EPOCH",
      });
      await expect(commit(g.coordinator, { ...a, memberId: "nobody" })).rejects.toMatchObject({
        code: "UNKNOWN_MEMBER_ID",
      });
      const { gets, queries, itemsRead, transacts, itemsWritten, checks } = g.counted.counts().meta;
      costs.push({ gets, queries, itemsRead, transacts, itemsWritten, checks });
    }
    const [small, large] = costs;
    expect(large).toEqual(small);
    expect(small.queries).toBe(0);
    // At most the meta item and the committer's own item per commit.
    expect(small.itemsRead).toBeLessThanOrEqual(8);
    // Two accepted commits: each its offset, conditional on the member item.
    expect(small).toMatchObject({ transacts: 2, itemsWritten: 2, checks: 2 });
  });

  it("a member whose revocation overran is removed by its own commit and told it is unknown, though no sweep is due", async () => {
    const g = await stableGroup(1, 2);
    const [p] = g.members;
    // The other process reads the group whole now, so its next sweep is a session timeout away.
    await g.elsewhere.describe("g");
    const q = await g.coordinator.heartbeat("g", { memberEpoch: 0, subscribedTopics: [TOPIC] });
    g.advance(1_000);
    // P must give a partition up, and has a second to do it; it never heartbeats again.
    const revoking = await g.coordinator.heartbeat("g", {
      memberId: p.memberId,
      memberEpoch: p.epoch,
      ownedPartitions: p.owned,
      rebalanceTimeoutMs: 1_000,
    });
    expect(revoking.assignment[0].partitions).toHaveLength(1);
    g.advance(2_000);
    await expect(commit(g.elsewhere, p)).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
    const members = (await g.elsewhere.describe("g")).members.map((m) => m.memberId);
    expect(members).toEqual([q.memberId]);
  });

  it("a commit without a member id is refused while the group has live members, accepted once they lapsed", async () => {
    const g = await stableGroup(2, 2);
    const standalone = () =>
      g.coordinator.commitOffsets("g", { offsets: [{ topic: TOPIC, partition: 0, offset: 0 }] });
    await expect(standalone()).rejects.toMatchObject({
      code: "UNKNOWN_MEMBER_ID",
      message: expect.stringContaining("has 2 active member(s)"),
    });
    g.advance(46_000);
    await standalone();
    expect((await g.coordinator.describe("g")).members).toEqual([]);
    expect(await g.coordinator.fetchOffsets("g")).toEqual([
      expect.objectContaining({ partition: 0, offset: 0 }),
    ]);
  });
});
