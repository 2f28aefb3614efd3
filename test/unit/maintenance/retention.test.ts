import { describe, expect, it } from "vitest";
import { expiredPrefix, retentionApplies } from "../../../src/maintenance/retention.js";

const HOUR = 3_600_000;
const now = 100 * HOUR;
const unlimited = { "retention.ms": -1, "retention.bytes": -1 };

describe("expiredPrefix (Kafka's segment deletion rules)", () => {
  const seg = (len: number, ageHours: number) => ({ len, maxTs: now - ageHours * HOUR });

  it("deletes nothing when both limits are -1", () => {
    expect(expiredPrefix([seg(10, 1000)], 10, unlimited, now)).toBe(0);
  });

  it("by time: segments whose newest record is strictly older than retention.ms, oldest first", () => {
    const config = { ...unlimited, "retention.ms": 2 * HOUR };
    expect(expiredPrefix([seg(1, 5), seg(1, 3), seg(1, 2), seg(1, 1)], 4, config, now)).toBe(2);
    // Exactly retention.ms old is kept (Kafka: now - largestTimestamp > retention.ms).
    expect(expiredPrefix([seg(1, 2)], 1, config, now)).toBe(0);
    // Stops at the first segment to keep, even if an older-stamped one follows it.
    expect(expiredPrefix([seg(1, 5), seg(1, 1), seg(1, 9)], 3, config, now)).toBe(1);
    // All of them when all expired: the log becomes empty.
    expect(expiredPrefix([seg(1, 5), seg(1, 4)], 2, config, now)).toBe(2);
  });

  it("by size: drops the oldest while the rest still holds at least retention.bytes", () => {
    const config = { ...unlimited, "retention.bytes": 250 };
    const segs = [seg(100, 0), seg(100, 0), seg(100, 0), seg(100, 0)];
    // 400 → 300 → 200 would fall below 250: one segment goes, 300 bytes stay.
    expect(expiredPrefix(segs, 400, config, now)).toBe(1);
    expect(expiredPrefix(segs, 400, { ...config, "retention.bytes": 200 }, now)).toBe(2);
    expect(expiredPrefix(segs, 400, { ...config, "retention.bytes": 0 }, now)).toBe(4);
    expect(expiredPrefix(segs, 400, { ...config, "retention.bytes": 400 }, now)).toBe(0);
  });

  it("either limit deletes a segment", () => {
    const config = { "retention.ms": 2 * HOUR, "retention.bytes": 100 };
    // The first goes by time, the second by size (200 - 100 >= 100), the third stays.
    expect(expiredPrefix([seg(100, 5), seg(100, 0), seg(100, 0)], 300, config, now)).toBe(2);
  });
});

describe("retentionApplies", () => {
  it("only under cleanup.policy=delete and with a limit set, as in Kafka", () => {
    const base = { "cleanup.policy": "delete" as const, "retention.ms": 604_800_000, "retention.bytes": -1 };
    expect(retentionApplies(base)).toBe(true);
    expect(retentionApplies({ ...base, "retention.ms": -1 })).toBe(false);
    expect(retentionApplies({ ...base, "retention.ms": -1, "retention.bytes": 0 })).toBe(true);
    expect(retentionApplies({ ...base, "cleanup.policy": "compact" })).toBe(false);
  });
});
