import { afterEach, describe, expect, it } from "vitest";
import { type MemoryBus, memoryBus } from "./memory-bus.js";
import type { Backend } from "../../../src/storage/ports.js";
import { abortableSleep } from "../../../src/subscriptions/dispatcher.js";
import {
  type PartitionContext,
  PartitionDelivery,
  type PartitionMember,
} from "../../../src/subscriptions/partition-delivery.js";
import type { DeliveryBatch, DeliveryResult } from "../../../src/subscriptions/types.js";
import { subscriptionWith } from "../../support/subscription-fixture.js";

/**
 * A partition's loop commits a run in the background while it gathers and delivers the next
 * (architecture §14): one partition of a real Broker and GroupCoordinator on the memory backend,
 * committing as a standalone committer (the group has no member) through a PartitionMember that
 * can hold a commit back, so what happens while a commit is in flight is seen, not timed.
 */

const GROUP = "floe-subscription-s";
const utf8 = new TextEncoder();

type World = MemoryBus;

const backends: Backend[] = [];
const loops: PartitionDelivery[] = [];

afterEach(async () => {
  for (const loop of loops.splice(0)) {
    loop.abort();
    await loop.ended;
  }
  for (const b of backends.splice(0)) await b.close();
});

async function world(records: number): Promise<World> {
  const bus = await memoryBus();
  const { backend, broker } = bus;
  backends.push(backend);
  await broker.createTopic("orders", 1);
  await broker.produce({
    topic: "orders",
    records: Array.from({ length: records }, (_, i) => ({ key: null, value: utf8.encode(`v${i}`) })),
  });
  return bus;
}

/** A loop over orders-0 delivering one record per batch; `events` is what happened, in order. */
function startLoop(
  w: World,
  member: PartitionMember,
  deliver: (batch: DeliveryBatch) => Promise<DeliveryResult>,
  events: string[],
): PartitionDelivery {
  const subscription = subscriptionWith({ topics: ["orders"], batchSize: 1, maximumBatchingWindowMs: 0 });
  const ctx: PartitionContext = {
    broker: w.broker,
    groups: w.groups,
    stats: {
      readStats: (name) => w.store.readStats(name),
      writeStats: async (name, stats) => {
        await w.store.writeStats(name, stats);
        events.push("stats written");
      },
    },
    member,
    subscription: () => subscription,
    target: () => ({ deliver }),
    // A clock that stands still: the stats are written once early on and then only by the loop's end.
    clock: () => 1_700_000_000_000,
    sleep: (ms) => abortableSleep(ms),
    random: Math.random,
    retryBackoffMs: 1,
    retryBackoffMaxMs: 5,
    warn: (message, detail) => events.push(`warn ${message} ${JSON.stringify(detail)}`),
    mode: { kind: "continuous", longPollMs: 50 },
  };
  const loop = new PartitionDelivery(ctx, "orders", 0, {
    committedOffsets: () => w.groups.fetchOffsets(GROUP, ["orders"]),
    storedStats: () => w.store.readStats("s"),
  }).start();
  loops.push(loop);
  return loop;
}

/** Commits standalone to the real coordinator, after `hold(offset)` if given, telling `events`. */
function memberOf(w: World, events: string[], hold?: (offset: number) => Promise<void>): PartitionMember {
  return {
    async commit(topic, partition, offset) {
      events.push(`commit ${offset} start`);
      await hold?.(offset);
      try {
        await w.groups.commitOffsets(GROUP, { offsets: [{ topic, partition, offset }] });
      } catch (e) {
        events.push(`commit ${offset} refused`);
        throw e;
      }
      events.push(`commit ${offset} end`);
    },
  };
}

/** Resolves when `signal` is given, or after `ms` so that a loop that never gets there fails a check instead of hanging. */
function signalOrGiveUp(ms: number): { promise: Promise<void>; give: () => void } {
  let give!: () => void;
  const promise = new Promise<void>((resolve) => {
    give = resolve;
    setTimeout(resolve, ms);
  });
  return { promise, give };
}

async function committedOffset(w: World): Promise<number | undefined> {
  return (await w.groups.fetchOffsets(GROUP, ["orders"])).find((o) => o.partition === 0)?.offset;
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 3_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("PartitionDelivery's background commit", () => {
  it("goes on delivering while a commit is in flight, then commits the latest settled offset: one commit at a time, in offset order", async () => {
    const w = await world(4);
    const events: string[] = [];
    const lastDelivered = signalOrGiveUp(5_000);
    const member = memberOf(w, events, async (offset) => {
      // The commit past record 0 lands only once record 3 was delivered: a loop that waits for a
      // commit before its next run gets there only when this gives up, and the order shows it.
      if (offset === 1) await lastDelivered.promise;
    });
    const loop = startLoop(
      w,
      member,
      async (batch) => {
        const offset = batch.records[0].offset;
        events.push(`deliver ${offset}`);
        if (offset === 3) lastDelivered.give();
        return { outcome: "success" };
      },
      events,
    );
    await until(async () => (await committedOffset(w)) === 4, "everything committed");
    expect(await loop.stop()).toBe("stopped");

    expect(events.indexOf("deliver 3")).toBeLessThan(events.indexOf("commit 1 end"));
    // Records 1 to 3, settled while the first commit was in flight, are covered by one commit.
    expect(events.filter((e) => e.startsWith("commit"))).toEqual([
      "commit 1 start",
      "commit 1 end",
      "commit 4 start",
      "commit 4 end",
    ]);
    expect(events.filter((e) => e.startsWith("deliver"))).toEqual([
      "deliver 0",
      "deliver 1",
      "deliver 2",
      "deliver 3",
    ]);
  });

  it("commits one at a time, in increasing offset order, whatever the commits' pace", async () => {
    const w = await world(30);
    const events: string[] = [];
    // Every third commit is slow (it waits for a few more deliveries), the others are not.
    let deliveries = 0;
    let slow = 0;
    const member = memberOf(w, events, async () => {
      if (++slow % 3 !== 0) return;
      const until3More = deliveries + 3;
      for (let i = 0; i < 200 && deliveries < until3More; i++) await new Promise((r) => setTimeout(r, 5));
    });
    const loop = startLoop(
      w,
      member,
      async (batch) => {
        deliveries++;
        events.push(`deliver ${batch.records[0].offset}`);
        return { outcome: "success" };
      },
      events,
    );
    await until(async () => (await committedOffset(w)) === 30, "everything committed");
    expect(await loop.stop()).toBe("stopped");

    const commits = events.filter((e) => e.startsWith("commit"));
    for (let i = 0; i < commits.length; i += 2) {
      const offset = commits[i].split(" ")[1];
      expect(commits.slice(i, i + 2)).toEqual([`commit ${offset} start`, `commit ${offset} end`]);
      if (i > 0) expect(Number(offset)).toBeGreaterThan(Number(commits[i - 2].split(" ")[1]));
    }
    expect(commits.at(-1)).toBe("commit 30 end");
    expect(events.filter((e) => e.startsWith("deliver"))).toEqual(
      Array.from({ length: 30 }, (_, i) => `deliver ${i}`),
    );
  });

  it("stop() ends the loop only once the commit in flight has landed, and writes the stats after it", async () => {
    const w = await world(5);
    const events: string[] = [];
    let loop: PartitionDelivery | undefined;
    let ended: Promise<void> | undefined;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const member = memberOf(w, events, async (offset) => {
      if (offset < 2 || ended) return;
      // Stopped just as a commit goes off in the background: the loop returns at once, but must
      // not count as ended (the runner would release the partition) before that commit lands.
      ended = loop!.stop().then((end) => {
        events.push(`ended ${end}`);
      });
      await held;
    });
    loop = startLoop(
      w,
      member,
      async (batch) => {
        events.push(`deliver ${batch.records[0].offset}`);
        return { outcome: "success" };
      },
      events,
    );
    await until(() => ended !== undefined, "a commit past record 1 to start");
    // Long enough for a loop that does not wait for its commit to end and write its stats (a
    // chance given, not a timing asserted: the order below is what is checked).
    await new Promise((r) => setTimeout(r, 200));
    events.push("commit released");
    release();
    await ended;

    const delivered = events.filter((e) => e.startsWith("deliver")).length;
    const after = events.slice(events.indexOf("commit released"));
    expect(after).toContain(`commit ${delivered} end`);
    expect(after.indexOf(`commit ${delivered} end`)).toBeLessThan(after.lastIndexOf("stats written"));
    expect(after.lastIndexOf("stats written")).toBeLessThan(after.indexOf("ended stopped"));
    // Everything delivered is committed, and counted.
    expect(await committedOffset(w)).toBe(delivered);
    const [stats] = await w.store.readStats("s");
    expect(stats.delivered).toBe(delivered);
  });

  it("a refused background commit ends the loop 'fenced' and no delivery starts after it is known", async () => {
    const w = await world(4);
    const events: string[] = [];
    const delivering1 = signalOrGiveUp(5_000);
    let refusedSeen!: () => void;
    const refused = new Promise<void>((r) => (refusedSeen = r));
    const member = memberOf(w, events, async (offset) => {
      if (offset !== 1) return;
      await delivering1.promise;
      // Another member joins while the commit past record 0 is in flight: the group is no longer
      // empty, so the coordinator refuses this standalone commit (UNKNOWN_MEMBER_ID).
      await w.groups.heartbeat(GROUP, { memberEpoch: 0, subscribedTopics: ["orders"] });
    });
    const commit = member.commit.bind(member);
    member.commit = (topic, partition, offset) =>
      commit(topic, partition, offset).catch((e) => {
        refusedSeen();
        throw e;
      });
    let attemptsOf1 = 0;
    const loop = startLoop(
      w,
      member,
      async (batch) => {
        const offset = batch.records[0].offset;
        events.push(`deliver ${offset}`);
        if (offset !== 1 || ++attemptsOf1 > 1) return { outcome: "success" };
        delivering1.give();
        // Fails once the refusal is known: a retry now would be a delivery started after it.
        await refused;
        await new Promise((r) => setTimeout(r, 20));
        return { outcome: "error", reason: "HTTP 503" };
      },
      events,
    );
    expect(await loop.ended).toBe("fenced");
    expect(events.filter((e) => e.startsWith("deliver"))).toEqual(["deliver 0", "deliver 1"]);
    expect(events).toContain("commit 1 refused");
    expect(events.filter((e) => e.startsWith("commit") && e.endsWith("start"))).toEqual(["commit 1 start"]);
    expect(await committedOffset(w)).toBeUndefined();
  });
});
