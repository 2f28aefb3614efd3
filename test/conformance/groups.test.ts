import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { FloeError } from "../../src/errors.js";
import { GroupCoordinator, type GroupCoordinatorOptions } from "../../src/groups/coordinator.js";
import { StaleMemberEpochError } from "../../src/groups/group-errors.js";
import { groupKeys } from "../../src/groups/keys.js";
import { parseTp, toPartitionSet, toTopicPartitions } from "../../src/groups/partition-set.js";
import type { GroupDescription, HeartbeatResponse } from "../../src/groups/types.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode } from "../support/faults.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

interface Consumed {
  member: string;
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
}

/** One heartbeat as the test saw it, in a single order across all members. */
interface HeartbeatEvent {
  seq: number;
  member: string;
  sentOwned: Set<string>;
  assignment: Set<string>;
}

/**
 * A consumer the way the phase-2 client will behave: heartbeats one at a time, reports what it is
 * consuming as ownedPartitions, adopts each response's assignment before its next heartbeat (giving
 * up what the response no longer lists, starting what is new from the committed offset), and
 * commits after every poll with its current epoch.
 */
class SimMember {
  memberId: string | undefined;
  epoch = 0;
  owned = new Set<string>();
  alive = true;
  private readonly positions = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly coordinator: GroupCoordinator,
    readonly broker: Broker,
    readonly groupId: string,
    readonly topics: string[],
    readonly sink: Consumed[],
    readonly events: HeartbeatEvent[],
  ) {}

  async heartbeat(): Promise<HeartbeatResponse> {
    const sentOwned = new Set(this.owned);
    const res = await this.coordinator.heartbeat(this.groupId, {
      memberId: this.memberId,
      memberEpoch: this.epoch,
      clientId: this.name,
      subscribedTopics: this.epoch === 0 ? this.topics : undefined,
      ownedPartitions: toTopicPartitions(this.owned),
    });
    this.memberId = res.memberId;
    this.epoch = res.memberEpoch;
    const next = toPartitionSet(res.assignment);
    // Positions of revoked partitions were committed after the poll that advanced them.
    for (const k of this.owned) if (!next.has(k)) this.positions.delete(k);
    const added = [...next].filter((k) => !this.owned.has(k));
    if (added.length > 0) {
      const committed = await this.coordinator.fetchOffsets(this.groupId, this.topics);
      for (const k of added) {
        const { topic, partition } = parseTp(k);
        const c = committed.find((o) => o.topic === topic && o.partition === partition);
        this.positions.set(k, c?.offset ?? 0);
      }
    }
    this.owned = next;
    this.events.push({ seq: this.events.length, member: this.name, sentOwned, assignment: new Set(next) });
    return res;
  }

  async poll(maxRecords = 9): Promise<number> {
    let n = 0;
    const commits: { topic: string; partition: number; offset: number }[] = [];
    for (const k of [...this.owned].sort()) {
      const { topic, partition } = parseTp(k);
      const r = await this.broker.fetch({ topic, partition, offset: this.positions.get(k)!, maxRecords });
      for (const rec of r.records) {
        this.sink.push({
          member: this.name,
          topic,
          partition,
          offset: rec.offset,
          key: text(rec.key),
          value: text(rec.value),
        });
      }
      if (r.records.length > 0) {
        this.positions.set(k, r.nextOffset);
        commits.push({ topic, partition, offset: r.nextOffset });
        n += r.records.length;
      }
    }
    if (commits.length > 0) {
      await this.coordinator.commitOffsets(this.groupId, {
        memberId: this.memberId,
        memberEpoch: this.epoch,
        offsets: commits,
      });
    }
    return n;
  }

  async leave(): Promise<void> {
    await this.coordinator.heartbeat(this.groupId, { memberId: this.memberId, memberEpoch: -1 });
    this.owned = new Set();
    this.alive = false;
  }
}

/** No partition in two live members' current assignments. */
function expectExclusive(members: SimMember[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    if (!m.alive) continue;
    for (const k of m.owned) {
      expect(seen.get(k), `${k} held by ${seen.get(k)} and ${m.name}`).toBeUndefined();
      seen.set(k, m.name);
    }
  }
}

/** Server side too: every member's assigned and pending-revocation partitions are disjoint. */
function expectDisjointOwnership(d: GroupDescription): void {
  const seen = new Map<string, string>();
  for (const m of d.members) {
    for (const k of [...toPartitionSet(m.assignment), ...toPartitionSet(m.pendingRevocation)]) {
      expect(seen.get(k), `${k} owned by ${seen.get(k)} and ${m.memberId}`).toBeUndefined();
      seen.set(k, m.memberId);
    }
  }
}

function expectTargetCovers(d: GroupDescription, partitions: string[]): void {
  const all = d.members.flatMap((m) => [...toPartitionSet(m.targetAssignment)]);
  expect(all.sort()).toEqual([...partitions].sort());
}

function partitionsOf(topic: string, count: number): string[] {
  return Array.from({ length: count }, (_, p) => `${topic}#${p}`);
}

describe.each(testBackends)("consumer groups on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let now = 1_700_000_000_000;
  const clock = () => now;
  let n = 0;
  const unique = (prefix: string) => `${prefix}${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const coordinator = (options: Partial<GroupCoordinatorOptions> = {}) =>
    new GroupCoordinator({ meta: backend.meta, broker, clock, ...options });

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  /** Produces `perKey` records for each of `keys` keys; values carry the key and a sequence number. */
  async function produceKeyed(topic: string, keys: number, perKey: number, from = 0): Promise<void> {
    const records = [];
    for (let i = from; i < from + perKey; i++) {
      for (let k = 0; k < keys; k++) records.push({ key: bytes(`k${k}`), value: bytes(`k${k}:${i}`) });
    }
    await broker.produce({ topic, records });
  }

  /** Heartbeat, check exclusivity, poll, for every live member; then the clock moves on. */
  async function round(members: SimMember[], tickMs = 1_000): Promise<number> {
    let consumed = 0;
    for (const m of members) {
      if (!m.alive) continue;
      await m.heartbeat();
      expectExclusive(members);
      consumed += await m.poll();
    }
    now += tickMs;
    return consumed;
  }

  async function runUntil(
    members: SimMember[],
    done: () => Promise<boolean>,
    options: { maxRounds?: number; tickMs?: number } = {},
  ): Promise<void> {
    for (let i = 0; i < (options.maxRounds ?? 100); i++) {
      await round(members, options.tickMs);
      if (await done()) return;
    }
    throw new Error("the group did not converge");
  }

  function expectEveryRecordOnce(consumed: Consumed[], topic: string, total: number, keys: number): void {
    const mine = consumed.filter((c) => c.topic === topic);
    const ids = mine.map((c) => `${c.partition}@${c.offset}`);
    expect(new Set(ids).size, "a record was consumed twice").toBe(ids.length);
    expect(ids.length).toBe(total);
    // Per key, records arrive in the order they were produced.
    for (let k = 0; k < keys; k++) {
      const seqs = mine.filter((c) => c.key === `k${k}`).map((c) => Number(c.value!.split(":")[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    }
  }

  /** Stable, and every partition holding records committed up to its high-water mark. */
  const stableAndDrained = (c: GroupCoordinator, groupId: string) => async () => {
    const d = await c.describe(groupId);
    expectDisjointOwnership(d);
    if (d.state !== "Stable") return false;
    const topics = [...new Set(d.members.flatMap((m) => m.subscribedTopics))];
    for (const topic of topics) {
      for (const p of (await broker.describeTopic(topic)).partitions) {
        const committed =
          d.offsets.find((o) => o.topic === topic && o.partition === p.partition)?.offset ?? 0;
        if (committed !== p.highWatermark) return false;
      }
    }
    return true;
  };

  it("three members share a six-partition topic: every record once, per-key order, two partitions each", async () => {
    const topic = unique("orders");
    const groupId = unique("g");
    await broker.createTopic(topic, 6);
    await produceKeyed(topic, 12, 10);
    const c = coordinator();
    const consumed: Consumed[] = [];
    const events: HeartbeatEvent[] = [];
    const members = ["a", "b", "c"].map(
      (name) => new SimMember(name, c, broker, groupId, [topic], consumed, events),
    );

    await round(members);
    await produceKeyed(topic, 12, 10, 10);
    await round(members);
    await produceKeyed(topic, 12, 5, 20);
    await runUntil(members, stableAndDrained(c, groupId));

    expectEveryRecordOnce(consumed, topic, 12 * 25, 12);
    const d = await c.describe(groupId);
    expect(d.state).toBe("Stable");
    expect(d.members.map((m) => m.assignment.flatMap((a) => a.partitions).length)).toEqual([2, 2, 2]);
    expect(d.members.every((m) => m.memberEpoch === d.assignmentEpoch)).toBe(true);
    expectTargetCovers(d, partitionsOf(topic, 6));
    expect(members.map((m) => m.owned.size)).toEqual([2, 2, 2]);
    expect(d.offsets.map((o) => o.partition)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(d.offsets.reduce((s, o) => s + o.offset, 0)).toBe(12 * 25);
    expect(d.members.map((m) => m.clientId).sort()).toEqual(["a", "b", "c"]);
    // All three consumed something: the work really was shared.
    expect(new Set(consumed.map((x) => x.member))).toEqual(new Set(["a", "b", "c"]));
  });

  it("a second group reads every record independently of the first", async () => {
    const topic = unique("events");
    await broker.createTopic(topic, 4);
    await produceKeyed(topic, 8, 6);
    const c = coordinator();
    const first: Consumed[] = [];
    const second: Consumed[] = [];
    const g1 = unique("g");
    const g2 = unique("g");
    const groupOne = ["a", "b"].map((name) => new SimMember(name, c, broker, g1, [topic], first, []));
    const groupTwo = ["x", "y", "z"].map((name) => new SimMember(name, c, broker, g2, [topic], second, []));
    await runUntil(groupOne, stableAndDrained(c, g1));
    await runUntil(groupTwo, stableAndDrained(c, g2));
    expectEveryRecordOnce(first, topic, 48, 8);
    expectEveryRecordOnce(second, topic, 48, 8);
    const filled = (await broker.describeTopic(topic)).partitions.filter((p) => p.highWatermark > 0);
    for (const groupId of [g1, g2]) {
      expect((await c.fetchOffsets(groupId)).map((o) => [o.partition, o.offset, o.lag])).toEqual(
        filled.map((p) => [p.partition, p.highWatermark, 0]),
      );
    }
  });

  it("a member joining mid-stream: partitions move only after revocation, and the fewest move", async () => {
    const topic = unique("clicks");
    const groupId = unique("g");
    await broker.createTopic(topic, 6);
    await produceKeyed(topic, 10, 6);
    const c = coordinator();
    const consumed: Consumed[] = [];
    const events: HeartbeatEvent[] = [];
    const [a, b, late] = ["a", "b", "late"].map(
      (name) => new SimMember(name, c, broker, groupId, [topic], consumed, events),
    );
    await runUntil([a, b], stableAndDrained(c, groupId));
    const before = { a: new Set(a.owned), b: new Set(b.owned) };
    expect([before.a.size, before.b.size]).toEqual([3, 3]);
    const epochBefore = (await c.describe(groupId)).groupEpoch;

    await produceKeyed(topic, 10, 6, 6);
    const joinedAt = events.length;
    const members = [a, b, late];
    await runUntil(members, stableAndDrained(c, groupId));
    await produceKeyed(topic, 10, 3, 12);
    await runUntil(members, stableAndDrained(c, groupId));
    expectEveryRecordOnce(consumed, topic, 150, 10);

    const d = await c.describe(groupId);
    expect(d.groupEpoch).toBe(epochBefore + 1);
    // Sticky: the old members kept two of their three each; the newcomer got exactly the two that moved.
    expect([...a.owned].every((k) => before.a.has(k))).toBe(true);
    expect([...b.owned].every((k) => before.b.has(k))).toBe(true);
    expect(late.owned.size).toBe(2);
    const moved = [...late.owned];
    for (const k of moved) {
      const from = before.a.has(k) ? "a" : "b";
      const after = events.slice(joinedAt);
      const revokedAt = after.find((e) => e.member === from && !e.assignment.has(k))!.seq;
      const releasedAt = after.find(
        (e) => e.member === from && e.seq > revokedAt && !e.sentOwned.has(k),
      )!.seq;
      const acquiredAt = after.find((e) => e.member === "late" && e.assignment.has(k))!.seq;
      expect(revokedAt).toBeLessThan(releasedAt);
      expect(releasedAt).toBeLessThan(acquiredAt);
    }
  });

  it("a member that stops heartbeating is expired after the session timeout and its partitions reassigned", async () => {
    const topic = unique("payments");
    const groupId = unique("g");
    await broker.createTopic(topic, 6);
    await produceKeyed(topic, 9, 4);
    const c = coordinator({ sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000 });
    const consumed: Consumed[] = [];
    const members = ["a", "b", "dead"].map(
      (name) => new SimMember(name, c, broker, groupId, [topic], consumed, []),
    );
    await runUntil(members, stableAndDrained(c, groupId), { tickMs: 5_000 });
    const dead = members[2];
    const orphaned = new Set(dead.owned);
    dead.alive = false;
    const lastSeen = now - 5_000;

    await produceKeyed(topic, 9, 4, 4);
    // Within the session timeout the silent member keeps its partitions.
    while (now - lastSeen <= 40_000) {
      await round(members, 5_000);
      expect((await c.describe(groupId)).members).toHaveLength(3);
    }
    await runUntil(members, stableAndDrained(c, groupId), { tickMs: 5_000 });
    const d = await c.describe(groupId);
    expect(d.members.map((m) => m.clientId).sort()).toEqual(["a", "b"]);
    const survivors = new Set([...members[0].owned, ...members[1].owned]);
    for (const k of orphaned) expect(survivors.has(k)).toBe(true);
    expect(survivors.size).toBe(6);
    expectEveryRecordOnce(consumed, topic, 72, 9);

    // The expired member learns it on its next heartbeat and rejoins with epoch 0 and the same id.
    await expectCode(dead.heartbeat(), "UNKNOWN_MEMBER_ID");
    dead.epoch = 0;
    dead.owned = new Set();
    dead.alive = true;
    await runUntil(members, async () => (await c.describe(groupId)).state === "Stable");
    expect(members.map((m) => m.owned.size)).toEqual([2, 2, 2]);
  });

  it("fences stale and unknown members on heartbeat and on commit", async () => {
    const topic = unique("fence");
    const groupId = unique("g");
    await broker.createTopic(topic, 2);
    await produceKeyed(topic, 4, 3);
    const c = coordinator();
    const joined = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    expect(joined.memberId).toMatch(/^[0-9a-f-]{36}$/);
    expect(joined.memberEpoch).toBe(1);
    expect(joined.heartbeatIntervalMs).toBe(5_000);
    expect(joined.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    const { memberId } = joined;
    const owned = joined.assignment;

    const hwm = (await broker.listOffsets(topic, 0, "latest")).offset;
    await c.commitOffsets(groupId, {
      memberId,
      memberEpoch: 1,
      offsets: [{ topic, partition: 0, offset: hwm }],
    });
    await expectCode(
      c.commitOffsets(groupId, { memberId, memberEpoch: 0, offsets: [{ topic, partition: 0, offset: 1 }] }),
      "STALE_MEMBER_EPOCH",
    );
    await expectCode(
      c.commitOffsets(groupId, {
        memberId: "nobody",
        memberEpoch: 1,
        offsets: [{ topic, partition: 0, offset: 1 }],
      }),
      "UNKNOWN_MEMBER_ID",
    );
    await expectCode(
      c.commitOffsets(groupId, {
        memberId,
        memberEpoch: 1,
        offsets: [{ topic, partition: 0, offset: hwm + 1 }],
      }),
      "OFFSET_OUT_OF_RANGE",
    );
    await expectCode(
      c.commitOffsets(groupId, {
        memberId,
        memberEpoch: 1,
        offsets: [{ topic: unique("nope"), partition: 0, offset: 0 }],
      }),
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    await expectCode(
      c.commitOffsets(groupId, { memberId, memberEpoch: 1, offsets: [{ topic, partition: 2, offset: 0 }] }),
      "UNKNOWN_TOPIC_OR_PARTITION",
    );

    // A second member joins: the first must give up a partition, and keeps its epoch until it has.
    const second = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    expect(second.assignment).toEqual([]);
    const revoking = await c.heartbeat(groupId, { memberId, memberEpoch: 1, ownedPartitions: owned });
    expect(revoking.memberEpoch).toBe(1);
    expect(revoking.assignment[0].partitions).toHaveLength(1);
    const kept = revoking.assignment[0].partitions[0];
    const given = 1 - kept;
    // Still owned while being revoked: the member may commit it at its current epoch.
    await c.commitOffsets(groupId, {
      memberId,
      memberEpoch: 1,
      offsets: [{ topic, partition: given, offset: 1 }],
    });
    const released = await c.heartbeat(groupId, {
      memberId,
      memberEpoch: 1,
      ownedPartitions: revoking.assignment,
    });
    expect(released).toMatchObject({ memberEpoch: 2, assignment: [{ topic, partitions: [kept] }] });
    // After release it no longer owns that partition: a commit for it is refused.
    await expectCode(
      c.commitOffsets(groupId, {
        memberId,
        memberEpoch: 2,
        offsets: [{ topic, partition: given, offset: 1 }],
      }),
      "STALE_MEMBER_EPOCH",
    );
    await expectCode(
      c.commitOffsets(groupId, {
        memberId,
        memberEpoch: 1,
        offsets: [{ topic, partition: kept, offset: 1 }],
      }),
      "STALE_MEMBER_EPOCH",
    );
    await c.commitOffsets(groupId, {
      memberId,
      memberEpoch: 2,
      offsets: [{ topic, partition: kept, offset: 1 }],
    });
    const got = await c.heartbeat(groupId, {
      memberId: second.memberId,
      memberEpoch: 2,
      ownedPartitions: [],
    });
    expect(got).toMatchObject({ memberEpoch: 2, assignment: [{ topic, partitions: [given] }] });

    // Heartbeats: an epoch the member never had is fenced; an unknown member is told so.
    await expectCode(
      c.heartbeat(groupId, { memberId, memberEpoch: 7, ownedPartitions: [] }),
      "FENCED_MEMBER_EPOCH",
    );
    // The previous epoch is fenced when the member claims more than its assignment...
    await expectCode(
      c.heartbeat(groupId, { memberId, memberEpoch: 1, ownedPartitions: [{ topic, partitions: [given] }] }),
      "FENCED_MEMBER_EPOCH",
    );
    await expectCode(c.heartbeat(groupId, { memberId: "ghost", memberEpoch: 3 }), "UNKNOWN_MEMBER_ID");
    await expectCode(c.heartbeat(groupId, { memberId: "ghost", memberEpoch: -1 }), "UNKNOWN_MEMBER_ID");
    // ...and accepted when it owns no more than its assignment: its last response was lost.
    const retried = await c.heartbeat(groupId, {
      memberId,
      memberEpoch: 1,
      ownedPartitions: [{ topic, partitions: [kept] }],
    });
    expect(retried).toMatchObject({ memberEpoch: 2, assignment: [{ topic, partitions: [kept] }] });
    // A fenced member rejoins with epoch 0 and its id. The rejoin may be a late duplicate of an
    // earlier join while the client still consumes, so it gets a new epoch and what it held stays
    // its own until a heartbeat at that epoch says it let go; then it gets its target back.
    const rejoined = await c.heartbeat(groupId, { memberId, memberEpoch: 0, subscribedTopics: [topic] });
    expect(rejoined).toMatchObject({ memberId, memberEpoch: 3, assignment: [] });
    const back = await c.heartbeat(groupId, { memberId, memberEpoch: 3, ownedPartitions: [] });
    expect(back).toMatchObject({ memberEpoch: 3, assignment: [{ topic, partitions: [kept] }] });
  });

  it("rejects bad requests with Kafka's codes", async () => {
    const c = coordinator();
    for (const bad of ["", "x".repeat(250)]) {
      await expectCode(c.heartbeat(bad, { memberEpoch: 0, subscribedTopics: [] }), "INVALID_GROUP_ID");
      await expectCode(c.describe(bad), "INVALID_GROUP_ID");
      await expectCode(c.delete(bad), "INVALID_GROUP_ID");
      await expectCode(c.commitOffsets(bad, { offsets: [] }), "INVALID_GROUP_ID");
    }
    const groupId = unique("g");
    await expectCode(c.heartbeat(groupId, { memberEpoch: 0 }), "INVALID_REQUEST");
    await expectCode(c.heartbeat(groupId, { memberEpoch: -2, memberId: "m" }), "INVALID_REQUEST");
    await expectCode(c.heartbeat(groupId, { memberEpoch: 3 }), "INVALID_REQUEST");
    await expectCode(
      c.heartbeat(groupId, { memberEpoch: 0, subscribedTopicRegex: "(" }),
      "INVALID_REGULAR_EXPRESSION",
    );
    await expectCode(c.heartbeat(groupId, { memberEpoch: 5, memberId: "m" }), "UNKNOWN_MEMBER_ID");
    await expectCode(c.describe(groupId), "GROUP_ID_NOT_FOUND");
    expect(await c.fetchOffsets(groupId)).toEqual([]);
    expect(() => coordinator({ heartbeatIntervalMs: 50_000, sessionTimeoutMs: 45_000 })).toThrow(FloeError);
  });

  it("accepts standalone commits only while the group has no members", async () => {
    const topic = unique("standalone");
    const groupId = unique("g");
    await broker.createTopic(topic, 2);
    await produceKeyed(topic, 4, 5);
    const c = coordinator();
    await c.commitOffsets(groupId, { offsets: [{ topic, partition: 0, offset: 1, metadata: "by hand" }] });
    expect(await c.fetchOffsets(groupId)).toEqual([
      expect.objectContaining({ topic, partition: 0, offset: 1, metadata: "by hand" }),
    ]);
    expect(await c.list()).toContainEqual({ groupId, state: "Empty", members: 0, type: "consumer" });
    await c.commitOffsets(groupId, { memberEpoch: -1, offsets: [{ topic, partition: 1, offset: 2 }] });
    await expectCode(
      c.commitOffsets(groupId, { memberEpoch: 4, offsets: [{ topic, partition: 1, offset: 2 }] }),
      "UNKNOWN_MEMBER_ID",
    );

    const m = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    await expectCode(
      c.commitOffsets(groupId, { offsets: [{ topic, partition: 0, offset: 3 }] }),
      "UNKNOWN_MEMBER_ID",
    );
    // The member starts where the standalone consumer left off.
    expect((await c.fetchOffsets(groupId, [topic])).map((o) => [o.partition, o.offset])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    await c.heartbeat(groupId, { memberId: m.memberId, memberEpoch: -1 });
    await c.commitOffsets(groupId, { offsets: [{ topic, partition: 0, offset: 3 }] });
    expect((await c.fetchOffsets(groupId, [topic]))[0].offset).toBe(3);
  });

  it("resets offsets of an empty group to each kind of target, planning without writing on a dry run", async () => {
    const topic = unique("reset");
    const groupId = unique("g");
    await broker.createTopic(topic, 2);
    for (let call = 0; call < 3; call++) {
      await broker.produce({
        topic,
        records: [0, 1].flatMap((partition) =>
          Array.from({ length: 4 }, (_, i) => ({
            partition,
            value: bytes("v"),
            timestamp: 1000 * (call * 4 + i),
          })),
        ),
      });
    }
    const c = coordinator();
    const committed = async () => (await c.fetchOffsets(groupId, [topic])).map((o) => o.offset);

    const planned = await c.resetOffsets(groupId, { topic, to: "latest" }, { dryRun: true });
    expect(planned).toEqual([
      { topic, partition: 0, previousOffset: null, offset: 12 },
      { topic, partition: 1, previousOffset: null, offset: 12 },
    ]);
    expect(await committed()).toEqual([]);
    await expectCode(c.describe(groupId), "GROUP_ID_NOT_FOUND");

    expect((await c.resetOffsets(groupId, { topic, to: "latest" })).map((o) => o.offset)).toEqual([12, 12]);
    expect(await committed()).toEqual([12, 12]);
    expect((await c.describe(groupId)).state).toBe("Empty");
    expect((await c.resetOffsets(groupId, { topic, to: "earliest" })).map((o) => o.offset)).toEqual([0, 0]);
    expect(await committed()).toEqual([0, 0]);
    const shifted = await c.resetOffsets(groupId, { topic, partitions: [1], to: { shiftBy: 5 } });
    expect(shifted).toEqual([{ topic, partition: 1, previousOffset: 0, offset: 5 }]);
    expect(await committed()).toEqual([0, 5]);
    // Clamped to [log start, high-water mark], as kafka-consumer-groups clamps.
    expect((await c.resetOffsets(groupId, { topic, to: { shiftBy: -7 } })).map((o) => o.offset)).toEqual([
      0, 0,
    ]);
    expect((await c.resetOffsets(groupId, { topic, to: { offset: 99 } })).map((o) => o.offset)).toEqual([
      12, 12,
    ]);
    expect((await c.resetOffsets(groupId, { topic, to: { offset: 7 } })).map((o) => o.offset)).toEqual([
      7, 7,
    ]);
    expect((await c.resetOffsets(groupId, { topic, to: { timestamp: 5_500 } })).map((o) => o.offset)).toEqual(
      [6, 6],
    );
    expect(
      (await c.resetOffsets(groupId, { topic, to: { timestamp: 99_000 } }, { dryRun: true }))[0],
    ).toEqual({
      topic,
      partition: 0,
      previousOffset: 6,
      offset: 12,
    });
    expect(await committed()).toEqual([6, 6]);

    await expectCode(
      c.resetOffsets(groupId, { topic, partitions: [2], to: "earliest" }),
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    await expectCode(
      c.resetOffsets(groupId, { topic: unique("nope"), to: "earliest" }),
      "UNKNOWN_TOPIC_OR_PARTITION",
    );
    await expectCode(c.resetOffsets(groupId, { topic, to: { shiftBy: 1.5 } }), "INVALID_REQUEST");
    await expectCode(c.resetOffsets(unique("g"), { topic, to: { shiftBy: 1 } }), "INVALID_REQUEST");

    const m = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    await expectCode(c.resetOffsets(groupId, { topic, to: "earliest" }), "NON_EMPTY_GROUP");
    await expectCode(c.resetOffsets(groupId, { topic, to: "earliest" }, { dryRun: true }), "NON_EMPTY_GROUP");
    expect(await committed()).toEqual([6, 6]);
    await c.heartbeat(groupId, { memberId: m.memberId, memberEpoch: -1 });
    await c.resetOffsets(groupId, { topic, to: "earliest" });
    expect(await committed()).toEqual([0, 0]);
  });

  it("deletes only an empty group, and a group re-created under the same id starts afresh", async () => {
    const topic = unique("del");
    const groupId = unique("g");
    await broker.createTopic(topic, 1);
    await produceKeyed(topic, 1, 3);
    const c = coordinator();
    await expectCode(c.delete(groupId), "GROUP_ID_NOT_FOUND");
    const m = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    await c.commitOffsets(groupId, {
      memberId: m.memberId,
      memberEpoch: m.memberEpoch,
      offsets: [{ topic, partition: 0, offset: 2 }],
    });
    await expectCode(c.delete(groupId), "NON_EMPTY_GROUP");
    await c.heartbeat(groupId, { memberId: m.memberId, memberEpoch: -1 });
    const before = await c.describe(groupId);
    expect(before.state).toBe("Empty");
    expect(before.offsets.map((o) => [o.offset, o.lag])).toEqual([[2, 1]]);

    await c.delete(groupId);
    await expectCode(c.describe(groupId), "GROUP_ID_NOT_FOUND");
    await expectCode(c.delete(groupId), "GROUP_ID_NOT_FOUND");
    expect((await c.list()).map((g) => g.groupId)).not.toContain(groupId);
    expect(await c.fetchOffsets(groupId)).toEqual([]);
    const pk = `group#${groupId}`;
    expect((await backend.meta.query(pk, { prefix: "offset#" })).length).toBe(0);
    // The last member's leave removed its target shard, so nothing of the group's target is left.
    expect((await backend.meta.query(pk, { prefix: "target#" })).length).toBe(0);

    const again = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    const d = await c.describe(groupId);
    expect(d.offsets).toEqual([]);
    expect(d.groupEpoch).toBe(1);
    expect(again.assignment).toEqual([{ topic, partitions: [0] }]);
  });

  it("eight members joining at once through eight coordinators leave one consistent group", async () => {
    const topic = unique("burst");
    const groupId = unique("g");
    await broker.createTopic(topic, 16);
    await produceKeyed(topic, 32, 2);
    const consumed: Consumed[] = [];
    const events: HeartbeatEvent[] = [];
    // One coordinator per member: like eight Lambda instances sharing only the table.
    const members = Array.from(
      { length: 8 },
      (_, i) =>
        new SimMember(
          `m${i}`,
          coordinator({ random: Math.random }),
          broker,
          groupId,
          [topic],
          consumed,
          events,
        ),
    );
    await Promise.all(members.map((m) => m.heartbeat()));
    expectExclusive(members);
    const c = coordinator();
    const joined = await c.describe(groupId);
    expect(joined.members).toHaveLength(8);
    expectTargetCovers(joined, partitionsOf(topic, 16));
    expectDisjointOwnership(joined);
    expect(joined.members.map((m) => m.targetAssignment[0]?.partitions.length ?? 0)).toEqual(
      Array(8).fill(2),
    );

    for (let i = 0; i < 40; i++) {
      await Promise.all(members.map((m) => m.heartbeat()));
      expectExclusive(members);
      await Promise.all(members.map((m) => m.poll()));
      now += 1_000;
      const d = await c.describe(groupId);
      expectDisjointOwnership(d);
      if (d.state === "Stable" && d.offsets.length === 16 && d.offsets.every((o) => o.lag === 0)) break;
    }
    const d = await c.describe(groupId);
    expect(d.state).toBe("Stable");
    expect(members.map((m) => m.owned.size)).toEqual(Array(8).fill(2));
    expectEveryRecordOnce(consumed, topic, 64, 32);
  });

  it("leaving frees the partitions at once, for the others to pick up", async () => {
    const topic = unique("leave");
    const groupId = unique("g");
    await broker.createTopic(topic, 4);
    await produceKeyed(topic, 6, 3);
    const c = coordinator();
    const consumed: Consumed[] = [];
    const members = ["a", "b"].map((name) => new SimMember(name, c, broker, groupId, [topic], consumed, []));
    await runUntil(members, stableAndDrained(c, groupId));
    await members[1].leave();
    await produceKeyed(topic, 6, 3, 3);
    await runUntil(members, stableAndDrained(c, groupId));
    expect(members[0].owned.size).toBe(4);
    expectEveryRecordOnce(consumed, topic, 36, 6);
    const d = await c.describe(groupId);
    expect(d.members).toHaveLength(1);
  });

  it("subscribes by regex as a full match, and follows new topics and added partitions", async () => {
    const prefix = unique("rx");
    const [t1, t2, dlq] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-a-dlq`];
    for (const t of [t1, t2, dlq]) await broker.createTopic(t, 1);
    const c = coordinator();
    const groupId = unique("g");
    const regex = `${prefix.replace(/[.-]/g, "\\$&")}-[a-z]`;
    let res = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopicRegex: regex });
    expect(res.assignment).toEqual([
      { topic: t1, partitions: [0] },
      { topic: t2, partitions: [0] },
    ]);
    const beat = async () =>
      (res = await c.heartbeat(groupId, {
        memberId: res.memberId,
        memberEpoch: res.memberEpoch,
        ownedPartitions: res.assignment,
      }));
    const t3 = `${prefix}-c`;
    await broker.createTopic(t3, 2);
    await beat();
    expect(res.memberEpoch).toBe(2);
    expect(res.assignment.map((a) => a.topic)).toEqual([t1, t2, t3]);
    await broker.updateTopic(t1, { partitions: 3 });
    await beat();
    expect(res.memberEpoch).toBe(3);
    expect(res.assignment[0]).toEqual({ topic: t1, partitions: [0, 1, 2] });
    // Switching to a topic list replaces the regex: everything held is revoked first, then dlq comes.
    res = await c.heartbeat(groupId, {
      memberId: res.memberId,
      memberEpoch: res.memberEpoch,
      subscribedTopics: [dlq],
      subscribedTopicRegex: "",
      ownedPartitions: res.assignment,
    });
    expect(res).toMatchObject({ memberEpoch: 3, assignment: [] });
    await beat();
    expect(res).toMatchObject({ memberEpoch: 4, assignment: [{ topic: dlq, partitions: [0] }] });
    const d = await c.describe(groupId);
    expect(d.members[0]).toMatchObject({ subscribedTopics: [dlq], subscribedTopicRegex: null });
  });

  it("range assignor gives members the same partition numbers of co-partitioned topics", async () => {
    const [orders, payments] = [unique("orders"), unique("payments")];
    await broker.createTopic(orders, 4);
    await broker.createTopic(payments, 4);
    const c = coordinator({ assignor: "range" });
    const groupId = unique("g");
    const members = ["a", "b"].map(
      (name) => new SimMember(name, c, broker, groupId, [orders, payments], [], []),
    );
    await runUntil(members, async () => (await c.describe(groupId)).state === "Stable");
    const d = await c.describe(groupId);
    expect(d.assignor).toBe("range");
    const [first, second] = members.map((m) => [...m.owned].map(parseTp));
    const numbers = (tps: { topic: string; partition: number }[], topic: string) =>
      tps
        .filter((x) => x.topic === topic)
        .map((x) => x.partition)
        .sort();
    expect(numbers(first, orders)).toEqual(numbers(first, payments));
    expect(numbers(second, orders)).toEqual(numbers(second, payments));
    expect(numbers(first, orders).length + numbers(second, orders).length).toBe(4);
  });

  it("removes a member that does not revoke within its rebalance timeout", async () => {
    const topic = unique("stuck");
    const groupId = unique("g");
    await broker.createTopic(topic, 2);
    const c = coordinator();
    const stuck = await c.heartbeat(groupId, {
      memberEpoch: 0,
      subscribedTopics: [topic],
      rebalanceTimeoutMs: 20_000,
    });
    const other = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    // The stuck member keeps claiming both partitions, so its revocation never completes.
    for (let i = 0; i < 4; i++) {
      await c.heartbeat(groupId, {
        memberId: stuck.memberId,
        memberEpoch: 1,
        ownedPartitions: stuck.assignment,
      });
      const o = await c.heartbeat(groupId, { memberId: other.memberId, memberEpoch: 2, ownedPartitions: [] });
      expect(o.assignment).toEqual([]);
      now += 5_000;
    }
    expect((await c.describe(groupId)).state).toBe("Reconciling");
    now += 5_000;
    const o = await c.heartbeat(groupId, { memberId: other.memberId, memberEpoch: 2, ownedPartitions: [] });
    expect(o.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    await expectCode(
      c.heartbeat(groupId, { memberId: stuck.memberId, memberEpoch: 1, ownedPartitions: stuck.assignment }),
      "UNKNOWN_MEMBER_ID",
    );
  });

  it("lists groups with their states", async () => {
    const topic = unique("list");
    await broker.createTopic(topic, 2);
    const c = coordinator();
    const [empty, busy] = [unique("g"), unique("g")];
    await c.commitOffsets(empty, { offsets: [{ topic, partition: 0, offset: 0 }] });
    const a = await c.heartbeat(busy, { memberEpoch: 0, subscribedTopics: [topic] });
    const b = await c.heartbeat(busy, { memberEpoch: 0, subscribedTopics: [topic] });
    const listed = async () => new Map((await c.list()).map((g) => [g.groupId, g]));
    expect((await listed()).get(empty)).toEqual({
      groupId: empty,
      state: "Empty",
      members: 0,
      type: "consumer",
    });
    expect((await listed()).get(busy)).toEqual({
      groupId: busy,
      state: "Reconciling",
      members: 2,
      type: "consumer",
    });
    // a gives one partition up, reports it released, and b picks it up.
    const a1 = await c.heartbeat(busy, {
      memberId: a.memberId,
      memberEpoch: a.memberEpoch,
      ownedPartitions: a.assignment,
    });
    const a2 = await c.heartbeat(busy, {
      memberId: a.memberId,
      memberEpoch: a1.memberEpoch,
      ownedPartitions: a1.assignment,
    });
    const b2 = await c.heartbeat(busy, {
      memberId: b.memberId,
      memberEpoch: b.memberEpoch,
      ownedPartitions: [],
    });
    expect([a2.assignment, b2.assignment].map((x) => x[0].partitions.length)).toEqual([1, 1]);
    expect((await listed()).get(busy)).toEqual({
      groupId: busy,
      state: "Stable",
      members: 2,
      type: "consumer",
    });
  });

  it("records each member's protocol: stored for classic members only, described, and typing the group", async () => {
    const topic = unique("proto");
    const groupId = unique("g");
    await broker.createTopic(topic, 2);
    const c = coordinator();
    const stored = async (memberId: string) => {
      const k = groupKeys.member(groupId, memberId);
      return (await backend.meta.get(k.pk, k.sk))?.data;
    };
    const typeOf = async () => (await c.list()).find((g) => g.groupId === groupId)?.type;
    const protocols = async () =>
      new Map((await c.describe(groupId)).members.map((m) => [m.memberId, m.protocol]));

    const a = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic], protocol: "classic" });
    expect((await stored(a.memberId))?.protocol).toBe("classic");
    expect(await protocols()).toEqual(new Map([[a.memberId, "classic"]]));
    expect(await typeOf()).toBe("classic");
    // Heartbeats after the join keep saying so, and the record stays.
    const a1 = await c.heartbeat(groupId, {
      memberId: a.memberId,
      memberEpoch: a.memberEpoch,
      ownedPartitions: a.assignment,
      protocol: "classic",
    });
    expect((await protocols()).get(a.memberId)).toBe("classic");

    // A KIP-848 member (no protocol given) stores nothing, reads as consumer, and makes the group one.
    const b = await c.heartbeat(groupId, { memberEpoch: 0, subscribedTopics: [topic] });
    expect(await stored(b.memberId)).not.toHaveProperty("protocol");
    expect(await protocols()).toEqual(
      new Map([
        [a.memberId, "classic"],
        [b.memberId, "consumer"],
      ]),
    );
    expect(await typeOf()).toBe("consumer");

    // A refused commit names the protocol the member is known by, for the transport to answer in.
    for (const [memberId, protocol] of [
      [a.memberId, "classic"],
      [b.memberId, "consumer"],
    ] as const) {
      const refused = await c
        .commitOffsets(groupId, { memberId, memberEpoch: 999, offsets: [{ topic, partition: 0, offset: 0 }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(refused).toBeInstanceOf(StaleMemberEpochError);
      expect(refused).toMatchObject({ code: "STALE_MEMBER_EPOCH", memberProtocol: protocol });
    }

    // The consumer member leaves: only classic members are left, and the group is classic again.
    await c.heartbeat(groupId, { memberId: b.memberId, memberEpoch: -1 });
    expect(await typeOf()).toBe("classic");
    await expectCode(
      c.heartbeat(groupId, {
        memberId: a.memberId,
        memberEpoch: a1.memberEpoch,
        protocol: "bogus" as "classic",
      }),
      "INVALID_REQUEST",
    );
    // An empty group is listed as consumer (Kafka would keep a classic group's type; see GroupListing).
    await c.heartbeat(groupId, { memberId: a.memberId, memberEpoch: -1, protocol: "classic" });
    expect(await typeOf()).toBe("consumer");
  });
});
