import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Consumer } from "../../../src/client/consumer.js";
import { Floe } from "../../../src/client/floe.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "../api/harness.js";
import { expectStoppedGroupReadEachOnce } from "../../support/group-checks.js";
import { GroupProbe, KeyedSource, partitionCount, until } from "./consumer-probe.js";

/**
 * Consumers of one group against a real `floe dev` server: the coordinator spreads partitions,
 * hands them over only after their owner committed and let go, and the records come out exactly
 * once (at least once after a member dies without committing).
 */
describe.each(apiStorages)("Consumer groups on %s", (storage) => {
  let s: TestServer;
  let floe: Floe;
  const running: Consumer[] = [];

  beforeAll(async () => {
    // Short sessions, so a member cut off from the server is expired within the test.
    s = await startTestServer(storage, { groupSessionTimeoutMs: 3_000 });
    floe = new Floe({ url: s.url });
  });
  afterAll(async () => {
    await Promise.allSettled(running.map((c) => c.stop()));
    await s?.close();
  });

  async function topic(partitions: number): Promise<string> {
    const t = uniqueTopic("cg");
    await floe.admin().createTopic({ topic: t, numPartitions: partitions });
    return t;
  }

  async function join(
    probe: GroupProbe,
    member: string,
    groupId: string,
    t: string,
    autoCommitInterval = 100,
  ) {
    const consumer = probe.consumer(member, { groupId, fromBeginning: true });
    running.push(consumer);
    await consumer.subscribe({ topic: t });
    await consumer.run({ eachMessage: probe.handler(member), autoCommitInterval });
    return consumer;
  }

  it("three members share a 6-partition topic: each record once, in key order, two partitions each, one owner at a time", async () => {
    const t = await topic(6);
    const source = new KeyedSource(floe, t);
    const probe = new GroupProbe(s.url);
    const groupId = uniqueTopic("g");
    await source.produce(150);
    const members: Consumer[] = [];
    for (const name of ["a", "b", "c"]) {
      members.push(await join(probe, name, groupId, t));
      // Records keep arriving while the group rebalances.
      await source.produce(150);
    }
    await until(() => members.every((c) => partitionCount(c) === 2), "the group has settled");
    await source.produce(150);
    await until(() => probe.deliveries.length >= source.produced, "every record is delivered");

    const owned = members.map((c) => c.assignment().flatMap((a) => a.partitions));
    expect(owned.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const described = await floe.admin().describeGroup(groupId);
    expect(described.state).toBe("Stable");
    expect(described.members.map((m) => m.assignment[0].partitions.length)).toEqual([2, 2, 2]);

    await expectStoppedGroupReadEachOnce(members, probe, source, ["a", "b", "c"]);
    expect(Math.max(...probe.maxHeartbeatsInFlight.values())).toBe(1);
    expect(probe.expectCommittedBeforeRelease()).toBeGreaterThan(0);

    // Stopping committed everything handed over and left: an empty group with no lag.
    const after = await floe.admin().describeGroup(groupId);
    expect(after.state).toBe("Empty");
    expect(after.offsets).toHaveLength(6);
    expect(after.offsets.every((o) => o.lag === 0)).toBe(true);
  });

  it("a second group reads every record again, independently of the first", async () => {
    const t = await topic(3);
    const source = new KeyedSource(floe, t);
    await source.produce(90);
    const first = new GroupProbe(s.url);
    const second = new GroupProbe(s.url);
    const g1 = uniqueTopic("g");
    const g2 = uniqueTopic("g");
    const members = [
      await join(first, "a", g1, t),
      await join(first, "b", g1, t),
      await join(second, "x", g2, t),
    ];
    await source.produce(60);
    await until(
      () => first.deliveries.length >= source.produced && second.deliveries.length >= source.produced,
      "both groups have every record",
    );
    await Promise.all(members.map((c) => c.stop()));
    for (const probe of [first, second]) {
      expect(probe.deliveries).toHaveLength(source.produced);
      expect(probe.deliveryCounts().size).toBe(source.produced);
      probe.expectPerKeyOrder();
    }
    expect(second.deliveries.every((d) => d.member === "x")).toBe(true);
  });

  it("a member that stops hands its partitions to the others, committed: nothing lost, nothing twice", async () => {
    const t = await topic(6);
    const source = new KeyedSource(floe, t);
    const probe = new GroupProbe(s.url);
    const groupId = uniqueTopic("g");
    await source.produce(120);
    const [a, b, c] = [
      await join(probe, "a", groupId, t),
      await join(probe, "b", groupId, t),
      await join(probe, "c", groupId, t),
    ];
    await until(() => [a, b, c].every((m) => partitionCount(m) === 2), "the group has settled");
    await source.produce(120);
    await until(
      () => probe.deliveries.some((d) => d.member === "b" && d.offset > 0),
      "b has handled records",
    );

    await b.stop();
    expect(partitionCount(b)).toBe(0);
    await source.produce(120);
    await until(
      () => probe.deliveries.length >= source.produced && partitionCount(a) === 3 && partitionCount(c) === 3,
      "a and c own b's partitions and have every record",
    );
    await Promise.all([a.stop(), c.stop()]);

    expect(probe.deliveries).toHaveLength(source.produced);
    expect(probe.deliveryCounts().size).toBe(source.produced);
    probe.expectPerKeyOrder();
    probe.expectNeverTwoOwners();
    expect(probe.expectCommittedBeforeRelease()).toBeGreaterThan(0);
    const bLeft = probe.timeline
      .filter((e) => e.member === "b" && e.kind === "revoked")
      .flatMap((e) => e.partitions);
    expect(bLeft.length).toBeGreaterThan(0);
  });

  it("a member cut off from the server loses its partitions: nothing is lost, and only records after its last commit come twice", async () => {
    const t = await topic(6);
    const source = new KeyedSource(floe, t);
    const probe = new GroupProbe(s.url);
    const groupId = uniqueTopic("g");
    await source.produce(300);
    const survivors = [await join(probe, "a", groupId, t), await join(probe, "b", groupId, t)];
    await until(() => survivors.every((m) => partitionCount(m) === 3), "a and b have settled");

    // x commits every 20 records, reading 10 at a time, and loses the network in the middle of its work.
    const committed = new Map<number, number>();
    const x = probe.consumer("x", { groupId, fromBeginning: true, sessionTimeout: 3_000, maxRecords: 10 });
    running.push(x);
    x.on("consumer.commit_offsets", ({ payload }) => {
      for (const { partitions } of payload.topics)
        for (const p of partitions) committed.set(p.partition, p.offset);
    });
    let handledByX = 0;
    const record = probe.handler("x");
    await x.subscribe({ topic: t });
    await x.run({
      autoCommitInterval: 60_000,
      autoCommitThreshold: 20,
      eachMessage: async (payload) => {
        await record(payload);
        if (++handledByX === 50) probe.cutOff.add("x");
      },
    });
    await until(
      () => partitionCount(x) === 2 && survivors.every((m) => partitionCount(m) === 2),
      "x has its share",
    );
    await source.produce(300);
    await until(() => handledByX >= 50, "x has handled 50 records");
    await until(
      () =>
        survivors.reduce((n, m) => n + partitionCount(m), 0) === 6 &&
        probe.timeline.some((e) => e.member === "x" && e.kind === "lost"),
      "the server expired x, a and b took its partitions, and x gave them up as lost",
    );
    await until(
      () => new Set(probe.deliveries.map((d) => `${d.partition}:${d.offset}`)).size >= source.produced,
      "every record is delivered",
    );
    await x.stop();
    await Promise.all(survivors.map((m) => m.stop()));

    const counts = probe.deliveryCounts();
    expect(counts.size).toBe(source.produced);
    const twice = probe.deliveries.filter((d) => counts.get(`${d.partition}:${d.offset}`)! > 1);
    expect(twice.length).toBeGreaterThan(0);
    for (const d of twice.filter((d) => d.member === "x")) {
      // Redelivered only from where x's last successful commit left that partition.
      expect(d.offset).toBeGreaterThanOrEqual(committed.get(d.partition) ?? 0);
    }
    // Each duplicate is one x handled and a survivor handled again, never two survivors.
    for (const [id, n] of counts) {
      if (n > 1)
        expect(
          probe.deliveries.filter((d) => `${d.partition}:${d.offset}` === id).map((d) => d.member),
        ).toContain("x");
    }
    expect(Math.max(...[...counts.values()])).toBe(2);
  });
});
