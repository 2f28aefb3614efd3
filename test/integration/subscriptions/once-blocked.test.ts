import { afterEach, describe, expect, it } from "vitest";
import { type MemoryBus, memoryBus } from "./memory-bus.js";
import type { Backend } from "../../../src/storage/ports.js";
import { Dispatcher } from "../../../src/subscriptions/dispatcher.js";
import { ONCE_BLOCKED_GIVE_UP_MS } from "../../../src/subscriptions/partition-delivery.js";
import type {
  DeliveryBatch,
  DeliveryResult,
  DeliveryTarget,
  SubscriptionInput,
} from "../../../src/subscriptions/types.js";

/**
 * A once-run (the Lambda dispatcher) leaves a partition whose deliveries keep failing to the next
 * run after ONCE_BLOCKED_GIVE_UP_MS, instead of retrying until its deadline. A real Broker,
 * GroupCoordinator and SubscriptionStore on the memory backend; the dispatcher's clock is the
 * wall clock plus `skew`, which the targets move on as if each attempt took a while, so thirty
 * seconds of failing pass without being waited for.
 */

const utf8 = new TextEncoder();

interface World extends MemoryBus {
  skew: { ms: number };
  /** A dispatcher on the skewed clock, delivering to `target`. */
  dispatcher(target: DeliveryTarget): Dispatcher;
}

const backends: Backend[] = [];

afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});

async function world(records: number, input: Partial<SubscriptionInput> = {}): Promise<World> {
  const { backend, broker, groups, store } = await memoryBus();
  backends.push(backend);
  await broker.createTopic("orders", 1);
  await broker.produce({
    topic: "orders",
    records: Array.from({ length: records }, (_, i) => ({ key: null, value: utf8.encode(`v${i}`) })),
  });
  await store.create("s", {
    topics: ["orders"],
    target: { type: "http", url: "http://127.0.0.1:9/unused" },
    maximumBatchingWindowMs: 0,
    batchSize: 1,
    ...input,
  });
  const skew = { ms: 0 };
  return {
    backend,
    broker,
    groups,
    store,
    skew,
    dispatcher: (target) =>
      new Dispatcher({
        broker,
        groups,
        store,
        targets: () => target,
        clock: () => Date.now() + skew.ms,
        pollIntervalMs: 20,
        retryBackoffMs: 1,
        retryBackoffMaxMs: 5,
        sessionTimeoutMs: 30_000,
      }),
  };
}

/** Records every batch it is sent (first offset, record count) and answers as `answer` says. */
function recordingTarget(answer: (batch: DeliveryBatch) => DeliveryResult): DeliveryTarget & {
  sent: { offset: number; records: number }[];
} {
  const sent: { offset: number; records: number }[] = [];
  return {
    sent,
    async deliver(batch) {
      sent.push({ offset: batch.records[0].offset, records: batch.records.length });
      return answer(batch);
    },
  };
}

async function committedOffset(w: World): Promise<number | undefined> {
  return (await w.groups.fetchOffsets("floe-subscription-s", ["orders"])).find((o) => o.partition === 0)
    ?.offset;
}

/** Far enough away that only ONCE_BLOCKED_GIVE_UP_MS, not the deadline, can end the run early. */
const deadline = () => Date.now() + 10 * 60_000;

describe("a once-run and a partition blocked on a failing target", () => {
  it("stops retrying after ONCE_BLOCKED_GIVE_UP_MS, reports the partition pending and commits nothing past the failing record", async () => {
    const w = await world(5);
    const target = recordingTarget((batch) => {
      // Every attempt takes a second of the dispatcher's clock.
      w.skew.ms += 1_000;
      return batch.records[0].offset < 2
        ? { outcome: "success" }
        : { outcome: "error", reason: "HTTP 503 Service Unavailable" };
    });
    const report = await w.dispatcher(target).runOnce({ deadline: deadline() });

    expect(report).toMatchObject({ delivered: 2, failed: 0, pendingPartitions: 1 });
    // Offsets 0 and 1 once each, then offset 2 for thirty seconds (one a second), and no further:
    // a run that kept on until its deadline would have tried it some 580 times.
    const attemptsOf2 = target.sent.filter((b) => b.offset === 2).length;
    expect(target.sent.slice(0, 2)).toEqual([
      { offset: 0, records: 1 },
      { offset: 1, records: 1 },
    ]);
    expect(target.sent.slice(2).every((b) => b.offset === 2)).toBe(true);
    expect(attemptsOf2).toBeGreaterThanOrEqual(ONCE_BLOCKED_GIVE_UP_MS / 1_000);
    expect(attemptsOf2).toBeLessThanOrEqual(ONCE_BLOCKED_GIVE_UP_MS / 1_000 + 2);
    expect(report.retried).toBe(attemptsOf2 - 1);
    expect(await committedOffset(w)).toBe(2);
    expect((await w.groups.describe("floe-subscription-s")).state).toBe("Empty");
    const [stats] = await w.store.readStats("s");
    expect(stats.lastError?.message).toContain("HTTP 503 Service Unavailable");
  });

  it("gives up on no partition whose target recovers within the limit, each failing spell timed afresh", async () => {
    const w = await world(3);
    // Each record fails for 20 s of the clock before it is accepted: 60 s of failing in all, but
    // never 30 s without an accepted record between.
    const failuresPerRecord = (ONCE_BLOCKED_GIVE_UP_MS * 2) / 3 / 1_000;
    const target = recordingTarget((batch) => {
      w.skew.ms += 1_000;
      const offset = batch.records[0].offset;
      const tries = target.sent.filter((b) => b.offset === offset).length;
      return tries > failuresPerRecord ? { outcome: "success" } : { outcome: "error", reason: "HTTP 502" };
    });
    const report = await w.dispatcher(target).runOnce({ deadline: deadline() });

    expect(report).toMatchObject({ delivered: 3, pendingPartitions: 0 });
    expect(target.sent).toHaveLength(3 * (failuresPerRecord + 1));
    expect(await committedOffset(w)).toBe(3);
  });

  it("counts a partial answer that accepted records as success, even in the middle of a chunk's retries", async () => {
    const records = 10;
    const w = await world(records, { batchSize: records });
    // One record accepted per answer, each answer taking 5 s: 50 s in the one chunk, never 30 s
    // without acceptance.
    const target = recordingTarget((batch) => {
      w.skew.ms += 5_000;
      if (batch.records.length === 1) return { outcome: "success" };
      return { outcome: "partial", firstFailedOffset: batch.records[1].offset, reason: "HTTP 429" };
    });
    const report = await w.dispatcher(target).runOnce({ deadline: deadline() });

    expect(report).toMatchObject({ delivered: records, pendingPartitions: 0 });
    expect(target.sent.map((b) => b.offset)).toEqual(Array.from({ length: records }, (_, i) => i));
    expect(await committedOffset(w)).toBe(records);
  });
});
