import { afterEach, describe, expect, it } from "vitest";
import { type MemoryBus, memoryBus } from "./memory-bus.js";
import { Maintenance } from "../../../src/maintenance/maintenance.js";
import { abortableSleep, Dispatcher, type DispatcherOptions } from "../../../src/subscriptions/dispatcher.js";
import { createSubscription } from "../../../src/subscriptions/subscription-creation.js";
import { deleteLeftoverGroup } from "../../../src/subscriptions/subscription-deletion.js";
import type {
  DeliveryBatch,
  DeliveryResult,
  DeliveryTarget,
  SubscriptionInput,
} from "../../../src/subscriptions/types.js";

/**
 * The dispatcher against a real Broker, GroupCoordinator and SubscriptionStore on the memory
 * backend, with targets written here as DeliveryTargets: what they were sent is the evidence.
 * Nothing is timed: every wait is for a condition, bounded only by the test's timeout.
 */

const utf8 = new TextEncoder();
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

interface World extends MemoryBus {
  dispatchers: Dispatcher[];
  /** Added to the coordinator's clock: moving it on expires sessions without waiting. */
  coordinatorSkew: { ms: number };
  dispatcher(target: DeliveryTarget, options?: Partial<DispatcherOptions>): Dispatcher;
}

const worlds: World[] = [];

async function world(): Promise<World> {
  const coordinatorSkew = { ms: 0 };
  const { backend, broker, groups, store } = await memoryBus({
    clock: () => Date.now() + coordinatorSkew.ms,
  });
  const w: World = {
    backend,
    broker,
    groups,
    store,
    dispatchers: [],
    coordinatorSkew,
    dispatcher(target, options = {}) {
      const d = new Dispatcher({
        broker,
        groups,
        store,
        targets: () => target,
        pollIntervalMs: 20,
        retryBackoffMs: 1,
        retryBackoffMaxMs: 5,
        sessionTimeoutMs: 30_000,
        ...options,
      });
      w.dispatchers.push(d);
      return d;
    },
  };
  worlds.push(w);
  return w;
}

afterEach(async () => {
  for (const w of worlds.splice(0)) {
    await Promise.all(w.dispatchers.map((d) => d.stop()));
    await w.backend.close();
  }
});

async function subscribe(w: World, input: Partial<SubscriptionInput> = {}, name = "s") {
  return w.store.create(name, {
    topics: ["orders"],
    target: { type: "http", url: "http://127.0.0.1:9/unused" },
    maximumBatchingWindowMs: 0,
    ...input,
  });
}

/** Produces `count` records over `keys` keys (key k{i % keys}), each its own value `v{i}`, in one request per 500. */
async function produce(
  w: World,
  count: number,
  options: { keys?: number; from?: number; timestamp?: number; topic?: string } = {},
) {
  const from = options.from ?? 0;
  for (let start = 0; start < count; start += 500) {
    const n = Math.min(500, count - start);
    await w.broker.produce({
      topic: options.topic ?? "orders",
      records: Array.from({ length: n }, (_, j) => {
        const i = from + start + j;
        return {
          key: utf8.encode(`k${i % (options.keys ?? 10)}`),
          value: utf8.encode(`v${i}`),
          ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
        };
      }),
    });
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 3_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function committed(w: World, name = "s"): Promise<Map<number, number>> {
  const offsets = await w.groups.fetchOffsets(`floe-subscription-${name}`);
  return new Map(offsets.map((o) => [o.partition, o.offset]));
}

async function highWatermarks(w: World, topic = "orders"): Promise<Map<number, number>> {
  const d = await w.broker.describeTopic(topic);
  return new Map(d.partitions.map((p) => [p.partition, p.highWatermark]));
}

async function fullyCommitted(w: World, name = "s", topic = "orders"): Promise<boolean> {
  const [c, h] = [await committed(w, name), await highWatermarks(w, topic)];
  return [...h].every(([p, hwm]) => hwm === 0 || c.get(p) === hwm);
}

async function groupState(w: World, name = "s"): Promise<string> {
  return (await w.groups.describe(`floe-subscription-${name}`)).state;
}

/** A target that accepts everything (or what `answer` says), recording every batch and what it accepted. */
class RecordingTarget implements DeliveryTarget {
  readonly batches: DeliveryBatch[] = [];
  /** partition → offsets accepted, in the order accepted. */
  readonly accepted = new Map<number, number[]>();
  constructor(
    private readonly answer: (batch: DeliveryBatch) => DeliveryResult | Promise<DeliveryResult> = () => ({
      outcome: "success",
    }),
  ) {}

  async deliver(batch: DeliveryBatch): Promise<DeliveryResult> {
    this.batches.push(batch);
    const result = await this.answer(batch);
    const upTo =
      result.outcome === "success"
        ? batch.records.length
        : result.outcome === "partial"
          ? batch.records.findIndex((r) => r.offset === result.firstFailedOffset)
          : 0;
    for (const r of batch.records.slice(0, upTo)) {
      const list = this.accepted.get(r.partition) ?? [];
      list.push(r.offset);
      this.accepted.set(r.partition, list);
    }
    return result;
  }

  total(): number {
    return [...this.accepted.values()].reduce((n, l) => n + l.length, 0);
  }
}

/**
 * A subscription on "orders" ({partitions} partitions, {records} records produced) whose running
 * dispatcher has delivered and committed everything.
 */
async function deliveredAll(partitions: number, records: number, input: Partial<SubscriptionInput> = {}) {
  const w = await world();
  await w.broker.createTopic("orders", partitions);
  await subscribe(w, input);
  await produce(w, records);
  const target = new RecordingTarget();
  w.dispatcher(target).start();
  await until(() => fullyCommitted(w), "everything committed");
  return { w, target };
}

describe("Dispatcher", () => {
  it("delivers thousands of records across partitions, each once and in offset order, and stop() leaves the group", async () => {
    const { w, target } = await deliveredAll(3, 3_000, { batchSize: 50 });
    const hwm = await highWatermarks(w);
    for (const [p, end] of hwm) {
      expect(target.accepted.get(p) ?? []).toEqual(Array.from({ length: end }, (_, i) => i));
    }
    expect(target.total()).toBe(3_000);
    expect(target.batches.every((b) => b.records.length <= 50)).toBe(true);
    expect(await groupState(w)).not.toBe("Empty");
    // A running dispatcher writes its last counts once its partitions are idle, not only at stop.
    await until(
      async () => (await w.store.readStats("s")).reduce((n, s) => n + s.delivered, 0) === 3_000,
      "the stats to count every record",
    );
    await w.dispatchers[0].stop();
    expect(await groupState(w)).toBe("Empty");
  });

  it("stop() leaves no wait behind (its poll, heartbeat and grace timers end), so a process embedding it can exit", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 2);
    await subscribe(w);
    await produce(w, 20);
    const target = new RecordingTarget();
    let pending = 0;
    const d = w.dispatcher(target, {
      // Long waits, as floe dev's are: each must be cut short by stop(), not run out.
      pollIntervalMs: 60_000,
      sleep: (ms, signal) => {
        pending++;
        return abortableSleep(ms, signal).finally(() => pending--);
      },
    });
    d.start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(pending).toBeGreaterThan(0);
    await d.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(pending).toBe(0);
    expect(await groupState(w)).toBe("Empty");
  });

  it("retries a failing target with backoff until it accepts; a partial answer is never redelivered before its failed record", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { batchSize: 10 });
    await produce(w, 30);
    let calls = 0;
    const target = new RecordingTarget((batch) => {
      calls++;
      if (calls <= 3) return { outcome: "error", reason: "HTTP 503" };
      if (calls === 4)
        return { outcome: "partial", firstFailedOffset: batch.records[4].offset, reason: "item failed" };
      return { outcome: "success" };
    });
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(target.accepted.get(0)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(target.batches.slice(0, 4).map((b) => b.attempt)).toEqual([1, 2, 3, 4]);
    // After the partial answer only the failed record and those after it were sent again.
    expect(target.batches[4].records[0].offset).toBe(target.batches[3].records[4].offset);
    await w.dispatchers[0].stop();
    const [stats] = await w.store.readStats("s");
    expect(stats).toMatchObject({ delivered: 30, retried: 4, failed: 0 });
    expect(stats.lastError?.message).toContain("item failed");
  });

  it("bisects to the poison record, sends exactly it to the failure topic with the reason, and moves on", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await w.broker.createTopic("orders-dlq", 1);
    await subscribe(w, {
      batchSize: 16,
      bisectBatchOnError: true,
      maximumRetryAttempts: 1,
      onFailureTopic: "orders-dlq",
    });
    await produce(w, 40);
    const poison = new Set([7, 23]);
    const target = new RecordingTarget((batch) =>
      batch.records.some((r) => poison.has(r.offset))
        ? { outcome: "error", reason: "cannot parse" }
        : { outcome: "success" },
    );
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(target.accepted.get(0)).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => !poison.has(i)),
    );
    const dlq = await w.broker.fetch({ topic: "orders-dlq", partition: 0, offset: 0 });
    expect(dlq.records.map((r) => text(r.value))).toEqual(["v7", "v23"]);
    const headers = Object.fromEntries(dlq.records[0].headers.map((h) => [h.key, text(h.value)]));
    expect(headers).toMatchObject({
      "floe.failure.reason": "RetryAttemptsExhausted: cannot parse",
      "floe.failure.subscription": "s",
      "floe.failure.topic": "orders",
      "floe.failure.partition": "0",
      "floe.failure.offset": "7",
    });
    expect(Number(headers["floe.failure.attempts"])).toBeGreaterThan(1);
    expect(text(dlq.records[0].key)).toBe("k7");
    await w.dispatchers[0].stop();
    const [stats] = await w.store.readStats("s");
    expect(stats).toMatchObject({ delivered: 38, failed: 2 });
  });

  it("sends records older than maximumRecordAgeMs to the failure topic without delivering them", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await w.broker.createTopic("orders-dlq", 1);
    await subscribe(w, { maximumRecordAgeMs: 60_000, onFailureTopic: "orders-dlq" });
    await produce(w, 5, { timestamp: Date.now() - 3_600_000 });
    await produce(w, 5, { from: 5 });
    const target = new RecordingTarget();
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(target.accepted.get(0)).toEqual([5, 6, 7, 8, 9]);
    const dlq = await w.broker.fetch({ topic: "orders-dlq", partition: 0, offset: 0 });
    expect(dlq.records.map((r) => text(r.value))).toEqual(["v0", "v1", "v2", "v3", "v4"]);
    const reason = dlq.records[0].headers.find((h) => h.key === "floe.failure.reason");
    expect(text(reason!.value)).toMatch(/^RecordAgeExceeded: /);
  });

  it("with parallelizationFactor delivers lanes at once while keeping each key's order", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { batchSize: 5, parallelizationFactor: 4, maximumBatchingWindowMs: 0 });
    await produce(w, 400, { keys: 16 });
    let inFlight = 0;
    let maxInFlight = 0;
    let release: (() => void) | undefined;
    const overlap = new Promise<void>((resolve) => (release = resolve));
    const target = new RecordingTarget(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (inFlight >= 2) release?.();
      // The first delivery waits for a second one to arrive: only lanes running at once can end it.
      await overlap;
      inFlight--;
      return { outcome: "success" };
    });
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
    const byKey = new Map<string, number[]>();
    for (const b of target.batches) {
      for (const r of b.records) {
        const k = text(r.key)!;
        byKey.set(k, [...(byKey.get(k) ?? []), r.offset]);
      }
    }
    expect(byKey.size).toBe(16);
    for (const offsets of byKey.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(target.total()).toBe(400);
  });

  it("two dispatchers on one subscription never deliver a partition at the same time, and together deliver everything", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 4);
    await subscribe(w, { batchSize: 20 });
    const busy = new Set<number>();
    const overlaps: string[] = [];
    const accepted = new Map<number, number[]>();
    // One target per dispatcher, sharing what is in flight: an overlap is a partition two deliver at once.
    const targetOf = () =>
      new RecordingTarget(async (batch) => {
        const p = batch.records[0].partition;
        if (busy.has(p)) overlaps.push(`partition ${p} offsets ${batch.records[0].offset}..`);
        busy.add(p);
        // Long enough to span a rebalance: a partition released before its delivery ended would overlap.
        await new Promise((r) => setTimeout(r, 150));
        busy.delete(p);
        accepted.set(p, [...(accepted.get(p) ?? []), ...batch.records.map((r) => r.offset)]);
        return { outcome: "success" };
      });
    const [target, secondTarget] = [targetOf(), targetOf()];
    const first = w.dispatcher(target);
    first.start();
    await produce(w, 400, { keys: 40 });
    await until(() => target.total() > 40, "the first dispatcher delivering");
    const second = w.dispatcher(secondTarget);
    second.start();
    await produce(w, 400, { keys: 40, from: 400 });
    // The group rebalances: the first gives partitions up (each after its delivery in flight) to the second.
    await until(() => secondTarget.batches.length > 0, "the second dispatcher delivering");
    expect((await w.groups.describe("floe-subscription-s")).members).toHaveLength(2);
    await first.stop();
    await produce(w, 400, { keys: 40, from: 800 });
    await until(() => fullyCommitted(w), "everything committed");
    expect(overlaps).toEqual([]);
    expect(secondTarget.batches.length).toBeGreaterThan(0);
    // At least once, in order: each partition's accepted offsets, without repeats, are 0..hwm-1.
    for (const [p, end] of await highWatermarks(w)) {
      const distinct = [...new Set(accepted.get(p))];
      expect(distinct).toEqual(Array.from({ length: end }, (_, i) => i));
    }
  });

  it("a paused subscription stops after its in-flight batch, commits it and leaves the group", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { batchSize: 10 });
    await produce(w, 50);
    let entered: (() => void) | undefined;
    const inFlight = new Promise<void>((r) => (entered = r));
    let letGo: (() => void) | undefined;
    const held = new Promise<void>((r) => (letGo = r));
    const target = new RecordingTarget(async (batch) => {
      if (batch.records[0].offset === 10) {
        entered?.();
        await held;
      }
      return { outcome: "success" };
    });
    let lists = 0;
    const list = w.store.list.bind(w.store);
    w.store.list = () => {
      lists++;
      return list();
    };
    w.dispatcher(target).start();
    await inFlight;
    const listed = lists;
    await w.store.setState("s", "Disabled");
    // A poll that began after the pause has ended once the next one begins: the dispatcher has seen
    // the pause while the batch is in flight, and must still finish and commit it.
    await until(() => lists >= listed + 2, "the dispatcher to read the pause");
    letGo?.();
    await until(async () => (await groupState(w)) === "Empty", "the group left");
    expect(target.accepted.get(0)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await committed(w)).get(0)).toBe(20);
    await w.store.setState("s", "Enabled");
    await until(() => fullyCommitted(w), "delivery resumed");
    expect(target.accepted.get(0)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("a Deleting subscription's runner leaves, then its group and definition are deleted", async () => {
    const { w } = await deliveredAll(2, 20);
    await w.store.setState("s", "Deleting");
    await until(async () => (await w.store.get("s")) === undefined, "the subscription removed");
    expect((await w.groups.list()).map((g) => g.groupId)).not.toContain("floe-subscription-s");
  });

  // The race deletion leaves open: a dispatcher that listed the subscription before it was marked
  // Deleting joins after the deletion deleted the group and before it removed the definition, so
  // the group comes back. Removing the definition under a running dispatcher is that end state.
  it("a runner whose subscription was removed under it deletes the group it leaves, so the name can be created again", async () => {
    const { w } = await deliveredAll(2, 20);
    await w.store.remove("s");
    await until(
      async () => !(await w.groups.list()).some((g) => g.groupId === "floe-subscription-s"),
      "the group it left deleted",
    );
    await createSubscription(w.store, w.broker, w.groups, "s", {
      topics: ["orders"],
      target: { type: "http", url: "http://127.0.0.1:9/unused" },
    });
  });

  it("a leftover group is deleted only while no definition of that name exists and no member holds it", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w);
    await produce(w, 5);
    // It reads the definitions once, then not again before the test ends: its runner stays in the group.
    w.dispatcher(new RecordingTarget(), { pollIntervalMs: 600_000 }).start();
    await until(() => fullyCommitted(w), "everything committed");
    // Defined: the group is the subscription's own.
    await deleteLeftoverGroup(w.store, w.groups, "s");
    expect(await groupState(w)).not.toBe("Empty");
    // Removed, but the runner is still in the group: not this caller's to delete.
    await w.store.remove("s");
    await deleteLeftoverGroup(w.store, w.groups, "s").catch(() => {});
    expect((await w.groups.list()).map((g) => g.groupId)).toContain("floe-subscription-s");
  });

  it("runOnce deletes the group of a subscription removed while the run held it", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w);
    await produce(w, 5);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let delivering!: () => void;
    const started = new Promise<void>((r) => (delivering = r));
    const target = new RecordingTarget(async () => {
      delivering();
      await held;
      return { outcome: "success" };
    });
    const run = w.dispatcher(target).runOnce({ deadline: Date.now() + 60_000 });
    await started;
    await w.store.remove("s");
    release();
    await run;
    expect((await w.groups.list()).map((g) => g.groupId)).not.toContain("floe-subscription-s");
  });

  it("runOnce delivers until caught up, leaves the group, and reports what it did", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 3);
    await w.broker.createTopic("orders-dlq", 1);
    await subscribe(w, { batchSize: 25, filters: [{ key: ["k1", "k2"] }] });
    await produce(w, 300);
    const target = new RecordingTarget();
    const report = await w.dispatcher(target).runOnce({ deadline: Date.now() + 60_000 });
    expect(await fullyCommitted(w)).toBe(true);
    expect(await groupState(w)).toBe("Empty");
    const passes = 60;
    expect(report).toEqual({
      subscriptions: 1,
      delivered: passes,
      failed: 0,
      retried: 0,
      filtered: 300 - passes,
      pendingPartitions: 0,
    });
    expect(target.total()).toBe(passes);
  });

  it("runOnce starts no batch past its deadline and reports the partitions left pending", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 2);
    await subscribe(w);
    await produce(w, 20);
    const target = new RecordingTarget();
    const report = await w.dispatcher(target).runOnce({ deadline: Date.now() });
    expect(target.batches).toEqual([]);
    expect(report.pendingPartitions).toBe(2);
    expect(await groupState(w)).toBe("Empty");
  });
  it("records removed by retention before delivery are reported as the partition's last error, never skipped silently", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1, { "retention.ms": 3_600_000 });
    await subscribe(w);
    await produce(w, 5, { timestamp: Date.now() - 86_400_000 });
    await produce(w, 3, { from: 5 });
    // The group's offset stands at 0, then retention removes the first segment (offsets 0-4).
    await w.groups.commitOffsets("floe-subscription-s", {
      offsets: [{ topic: "orders", partition: 0, offset: 0 }],
    });
    await new Maintenance(w.backend).runOnce();
    expect((await w.broker.listOffsets("orders", 0, "earliest")).offset).toBe(5);
    const target = new RecordingTarget();
    const dispatcher = w.dispatcher(target);
    dispatcher.start();
    await until(() => fullyCommitted(w), "everything committed");
    expect(target.accepted.get(0)).toEqual([5, 6, 7]);
    await dispatcher.stop();
    const [stats] = await w.store.readStats("s");
    expect(stats.lastError?.message).toMatch(
      /^5 record\(s\) of orders-0 \(offsets 0 to 4\) were deleted by retention/,
    );
  });

  it("a target that keeps failing blocks its partition with the last error and the oldest undelivered record's timestamp, then catches up", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w);
    await produce(w, 10, { timestamp: 1_700_000_000_000 });
    let down = true;
    const target = new RecordingTarget(() =>
      down ? { outcome: "error", reason: "HTTP 502 Bad Gateway" } : { outcome: "success" },
    );
    const dispatcher = w.dispatcher(target);
    dispatcher.start();
    await until(async () => {
      const [stats] = await w.store.readStats("s");
      return stats?.oldestUndeliveredTimestamp === 1_700_000_000_000 && stats.retried >= 3;
    }, "the blocked partition's stats");
    const [blocked] = await w.store.readStats("s");
    expect(blocked.lastError?.message).toContain("HTTP 502 Bad Gateway");
    expect(blocked.delivered).toBe(0);
    expect((await committed(w)).get(0) ?? 0).toBe(0);
    down = false;
    await until(() => fullyCommitted(w), "everything committed");
    await dispatcher.stop();
    const [after] = await w.store.readStats("s");
    expect(after).toMatchObject({ delivered: 10, failed: 0, oldestUndeliveredTimestamp: null });
    expect(target.accepted.get(0)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("stop() gives up on a delivery that outlasts the target's timeout, commits nothing of it, and leaves", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { target: { type: "http", url: "http://127.0.0.1:9/unused", timeoutMs: 50 } });
    await produce(w, 3);
    let started: (() => void) | undefined;
    const inFlight = new Promise<void>((r) => (started = r));
    const target: DeliveryTarget = {
      // Answers only when told to give up, as a target whose own timeout failed to fire would not.
      deliver: (_batch, signal) =>
        new Promise<DeliveryResult>((resolve) => {
          started?.();
          signal.addEventListener("abort", () => resolve({ outcome: "error", reason: "aborted" }));
        }),
    };
    const dispatcher = w.dispatcher(target);
    dispatcher.start();
    await inFlight;
    await dispatcher.stop();
    expect(await groupState(w)).toBe("Empty");
    expect((await committed(w)).get(0)).toBeUndefined();
  });
  it("a topicRegex subscription delivers every matching topic, one created after the subscription included", async () => {
    const w = await world();
    await w.broker.createTopic("orders-eu", 2);
    await w.broker.createTopic("payments", 1);
    await subscribe(w, { topics: null, topicRegex: "orders-.*" });
    await w.broker.createTopic("orders-us", 1);
    await produce(w, 30, { topic: "orders-eu" });
    await produce(w, 10, { topic: "orders-us" });
    await produce(w, 10, { topic: "payments" });
    const topics = new Map<string, number>();
    const target = new RecordingTarget((batch) => {
      for (const r of batch.records) topics.set(r.topic, (topics.get(r.topic) ?? 0) + 1);
      return { outcome: "success" };
    });
    const report = await w.dispatcher(target).runOnce({ deadline: Date.now() + 60_000 });
    expect(Object.fromEntries(topics)).toEqual({ "orders-eu": 30, "orders-us": 10 });
    expect(report).toMatchObject({ delivered: 40, pendingPartitions: 0 });
  });
  it("a member the group expired gives its partitions up, joins again and goes on delivering from the committed offsets", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 2);
    await subscribe(w);
    await produce(w, 100);
    const target = new RecordingTarget();
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "the first records committed");
    const [before] = (await w.groups.describe("floe-subscription-s")).members;
    // The coordinator's time jumps past the session: the member's next heartbeat finds it expired.
    w.coordinatorSkew.ms += 60_000;
    await until(async () => {
      const members = (await w.groups.describe("floe-subscription-s")).members;
      return (
        members.length === 1 && members[0].memberId !== before.memberId && members[0].assignment.length > 0
      );
    }, "a new member holding the partitions");
    await produce(w, 100, { from: 100 });
    await until(() => fullyCommitted(w), "everything committed");
    for (const [p, end] of await highWatermarks(w)) {
      expect([...new Set(target.accepted.get(p))]).toEqual(Array.from({ length: end }, (_, i) => i));
    }
  });
  it("applies changed settings to the runs after the dispatcher reads them", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { batchSize: 10 });
    await produce(w, 30);
    let lists = 0;
    const list = w.store.list.bind(w.store);
    w.store.list = () => {
      lists++;
      return list();
    };
    const target = new RecordingTarget();
    w.dispatcher(target).start();
    await until(() => fullyCommitted(w), "the first records committed");
    await w.store.update("s", { batchSize: 3 });
    const listed = lists;
    await until(() => lists >= listed + 2, "the dispatcher to read the change");
    await produce(w, 30, { from: 30 });
    await until(() => fullyCommitted(w), "everything committed");
    expect(target.batches.filter((b) => b.records[0].offset < 30).every((b) => b.records.length <= 10)).toBe(
      true,
    );
    const after = target.batches.filter((b) => b.records[0].offset >= 30);
    expect(after.length).toBeGreaterThanOrEqual(10);
    expect(after.every((b) => b.records.length <= 3)).toBe(true);
    expect(target.accepted.get(0)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
  it("runOnce stops retrying a failing target when its time for new batches is up, committing nothing undelivered", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w);
    await produce(w, 5);
    const target = new RecordingTarget(() => ({ outcome: "error", reason: "HTTP 503" }));
    // The target's timeout is 30 s, so new attempts stop 10 s before the deadline: 300 ms from now.
    const report = await w.dispatcher(target).runOnce({ deadline: Date.now() + 10_300 });
    expect(target.batches.length).toBeGreaterThan(1);
    expect(report).toMatchObject({ delivered: 0, pendingPartitions: 1 });
    expect(report.retried).toBe(target.batches.length - 1);
    expect((await committed(w)).get(0)).toBeUndefined();
    expect(await groupState(w)).toBe("Empty");
  });
  it("runOnce aborts a delivery still in flight at its deadline and leaves it uncommitted", async () => {
    const w = await world();
    await w.broker.createTopic("orders", 1);
    await subscribe(w, { target: { type: "http", url: "http://127.0.0.1:9/unused", timeoutMs: 100 } });
    await produce(w, 3);
    const target: DeliveryTarget = {
      // Answers only when told to give up.
      deliver: (_batch, signal) =>
        new Promise<DeliveryResult>((resolve) =>
          signal.addEventListener("abort", () => resolve({ outcome: "error", reason: "aborted" })),
        ),
    };
    const report = await w.dispatcher(target).runOnce({ deadline: Date.now() + 300 });
    expect(report).toMatchObject({ delivered: 0, pendingPartitions: 1 });
    expect((await committed(w)).get(0)).toBeUndefined();
    expect(await groupState(w)).toBe("Empty");
  });
});
