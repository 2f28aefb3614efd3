import { describe, expect, it } from "vitest";
import { PartitionStats, type StatsStore } from "../../../src/subscriptions/delivery-stats.js";
import type { DeliveryMetrics, PartitionDeliveryStats } from "../../../src/subscriptions/types.js";

function harness(previous?: PartitionDeliveryStats) {
  const now = { value: 5_000 };
  const writes: PartitionDeliveryStats[] = [];
  const store: StatsStore = {
    readStats: async () => [],
    writeStats: async (_name, stats) => {
      writes.push(stats);
    },
  };
  const counts: string[] = [];
  const ages: number[] = [];
  const metrics: DeliveryMetrics = {
    count: (subscription, name, value) => counts.push(`${subscription}:${name}:${value}`),
    oldestUndeliveredAge: (_s, age) => ages.push(age),
  };
  const errors: unknown[] = [];
  const stats = new PartitionStats(
    "s",
    "t",
    3,
    previous,
    store,
    () => now.value,
    metrics,
    (e) => errors.push(e),
  );
  return { stats, now, writes, counts, ages, errors };
}

describe("PartitionStats", () => {
  it("resumes the previous owner's totals and counts only its own in `counted`", async () => {
    const previous: PartitionDeliveryStats = {
      topic: "t",
      partition: 3,
      delivered: 10,
      failed: 1,
      retried: 2,
      filtered: 3,
      oldestUndeliveredTimestamp: 99,
      lastError: null,
      updatedAt: 1,
    };
    const h = harness(previous);
    h.stats.count({ delivered: 5, filtered: 1 });
    await h.stats.flush();
    expect(h.writes).toEqual([
      { ...previous, delivered: 15, filtered: 4, oldestUndeliveredTimestamp: null, updatedAt: 5_000 },
    ]);
    expect(h.stats.counted).toEqual({ delivered: 5, failed: 0, retried: 0, filtered: 1 });
    expect(h.counts).toEqual(["s:RecordsDelivered:5", "s:RecordsFiltered:1"]);
  });

  it("writes at most once a second, and not at all when nothing changed", async () => {
    const h = harness();
    await h.stats.maybeFlush();
    expect(h.writes).toHaveLength(0);
    h.stats.count({ delivered: 1 });
    await h.stats.maybeFlush();
    h.stats.count({ delivered: 1 });
    await h.stats.maybeFlush();
    expect(h.writes.map((w) => w.delivered)).toEqual([1]);
    expect(h.stats.flushDueInMs()).toBe(1_000);
    h.now.value += 1_000;
    expect(h.stats.flushDueInMs()).toBe(0);
    await h.stats.maybeFlush();
    expect(h.writes.map((w) => w.delivered)).toEqual([1, 2]);
    expect(h.stats.flushDueInMs()).toBe(Number.POSITIVE_INFINITY);
  });

  it("reports the oldest undelivered record's age as a metric and keeps errors short", async () => {
    const h = harness();
    h.stats.pending(4_000);
    h.stats.error("x".repeat(5_000));
    await h.stats.flush();
    expect(h.ages).toEqual([1_000]);
    expect(h.writes[0].oldestUndeliveredTimestamp).toBe(4_000);
    expect(h.writes[0].lastError).toMatchObject({ at: 5_000, topic: "t", partition: 3 });
    expect(h.writes[0].lastError!.message.length).toBeLessThan(1_010);
  });

  it("a failed write is reported, kept dirty and written again later", async () => {
    const h = harness();
    let fail = true;
    const store: StatsStore = {
      readStats: async () => [],
      writeStats: async (_n, s) => {
        if (fail) throw new Error("throttled");
        h.writes.push(s);
      },
    };
    const errors: unknown[] = [];
    const stats = new PartitionStats(
      "s",
      "t",
      0,
      undefined,
      store,
      () => h.now.value,
      undefined,
      (e) => errors.push(e),
    );
    stats.count({ failed: 2 });
    await stats.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    await stats.flush();
    expect(h.writes.map((w) => w.failed)).toEqual([2]);
  });
});
