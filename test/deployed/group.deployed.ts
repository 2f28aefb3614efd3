import { afterAll, describe, expect, it } from "vitest";
import type { Consumer } from "../../src/client/consumer.js";
import { Floe } from "../../src/client/floe.js";
import { GroupProbe, KeyedSource, partitionCount, until } from "../integration/groups/consumer-probe.js";
import { expectStoppedGroupReadEachOnce } from "../support/group-checks.js";
import { deployedStack } from "./stack.js";

/**
 * A consumer group of three through the client (src/client) against the deployed stack: every
 * heartbeat, fetch and commit is an API Gateway request served by a Lambda function on LocalStack.
 */
const stack = deployedStack();
const floe = new Floe({ url: stack.apiUrl });
const running: Consumer[] = [];
/** Lambda on LocalStack answers in tens of milliseconds, not one: give the group room to settle. */
const BOUND_MS = 150_000;

afterAll(async () => {
  await Promise.allSettled(running.map((c) => c.stop()));
});

describe("a consumer group on the deployed stack", () => {
  it("three members share a 6-partition topic: each record once, in key order, two partitions each", async () => {
    const t = `group-${Date.now().toString(36)}`;
    await floe.admin().createTopic({ topic: t, numPartitions: 6 });
    const source = new KeyedSource(floe, t);
    const probe = new GroupProbe(stack.apiUrl);
    const groupId = `g-${t}`;
    await source.produce(60);
    const members: Consumer[] = [];
    for (const name of ["a", "b", "c"]) {
      const consumer = probe.consumer(name, { groupId, fromBeginning: true, maxWaitTimeInMs: 1_000 });
      running.push(consumer);
      await consumer.subscribe({ topic: t });
      await consumer.run({ eachMessage: probe.handler(name), autoCommitInterval: 500 });
      members.push(consumer);
      // Records keep arriving while the group rebalances.
      await source.produce(60);
    }
    await until(() => members.every((c) => partitionCount(c) === 2), "the group has settled", BOUND_MS);
    await source.produce(60);
    await until(() => probe.deliveries.length >= source.produced, "every record is delivered", BOUND_MS);

    const owned = members.map((c) => c.assignment().flatMap((a) => a.partitions));
    expect(owned.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await expectStoppedGroupReadEachOnce(members, probe, source, ["a", "b", "c"]);

    // Stopping committed everything and left: an empty group with no lag.
    const after = await floe.admin().describeGroup(groupId);
    expect(after.state).toBe("Empty");
    expect(after.offsets).toHaveLength(6);
    expect(after.offsets.every((o) => o.lag === 0)).toBe(true);
  });
});
