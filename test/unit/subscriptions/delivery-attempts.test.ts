import { describe, expect, it } from "vitest";
import { backoffMs, deliverChunk } from "../../../src/subscriptions/delivery-attempts.js";
import { attemptContext, records, ScriptedTarget, subscriptionWith } from "./delivery-fixtures.js";

describe("deliverChunk", () => {
  it("delivers a chunk once when the target accepts it", async () => {
    const target = new ScriptedTarget(() => ({ outcome: "success" }));
    const ctx = attemptContext(subscriptionWith(), target);
    const out = await deliverChunk(records(5), ctx);
    expect(out).toEqual({ delivered: 5, retried: 0, failed: [], pending: [] });
    expect(target.batches.map((b) => b.attempt)).toEqual([1]);
  });

  it("retries the same records with the same message id after exponential backoff with full jitter, then succeeds", async () => {
    const target = new ScriptedTarget((_, call) =>
      call <= 5 ? { outcome: "error", reason: "HTTP 503" } : { outcome: "success" },
    );
    const failures: string[] = [];
    const ctx = attemptContext(subscriptionWith(), target, {
      onFailedAttempt: (reason, _records, attempt) => failures.push(`${attempt}:${reason}`),
    });
    const out = await deliverChunk(records(3), ctx);
    expect(out).toMatchObject({ delivered: 3, retried: 5, failed: [], pending: [] });
    expect(target.batches.map((b) => b.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(target.batches.map((b) => b.messageId)).size).toBe(1);
    // random() = 0.5 of the ceilings 100, 200, 400, 800, 1000 (capped at retryBackoffMaxMs).
    expect(ctx.sleeps).toEqual([50, 100, 200, 400, 500]);
    expect(failures[0]).toBe("1:HTTP 503");
  });

  it("backoff stays within [0, ceiling)", () => {
    const settings = { retryBackoffMs: 100, retryBackoffMaxMs: 1_000 };
    expect(backoffMs(1, { ...settings, random: () => 0 })).toBe(0);
    expect(backoffMs(1, { ...settings, random: () => 0.999 })).toBe(99);
    expect(backoffMs(30, { ...settings, random: () => 0.999 })).toBe(999);
  });

  it("a partial response accepts the records before the failed one and retries only it and the rest", async () => {
    const target = new ScriptedTarget((_batch, call) =>
      call === 1
        ? { outcome: "partial", firstFailedOffset: 3, reason: "item 3 failed" }
        : { outcome: "success" },
    );
    const out = await deliverChunk(records(6), attemptContext(subscriptionWith(), target));
    expect(target.offsetsPerCall()).toEqual([
      [0, 1, 2, 3, 4, 5],
      [3, 4, 5],
    ]);
    expect(out).toMatchObject({ delivered: 6, retried: 1, failed: [] });
    expect(target.batches[1].attempt).toBe(2);
  });

  it("with reportBatchItemFailures off a partial answer counts as success, as Lambda's does", async () => {
    const target = new ScriptedTarget(() => ({ outcome: "partial", firstFailedOffset: 1, reason: "x" }));
    const out = await deliverChunk(
      records(3),
      attemptContext(subscriptionWith({ reportBatchItemFailures: false }), target),
    );
    expect(out.delivered).toBe(3);
    expect(target.batches).toHaveLength(1);
  });

  it("a partial answer naming an offset not in the batch fails the whole batch", async () => {
    const target = new ScriptedTarget((_, call) =>
      call === 1 ? { outcome: "partial", firstFailedOffset: 99, reason: "?" } : { outcome: "success" },
    );
    await deliverChunk(records(3), attemptContext(subscriptionWith(), target));
    expect(target.offsetsPerCall()).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  it("bisection isolates one poison record; exhausted retries send exactly it to the failure destination", async () => {
    const poison = 5;
    const target = new ScriptedTarget((batch) =>
      batch.records.some((r) => r.offset === poison)
        ? { outcome: "error", reason: "poison" }
        : { outcome: "success" },
    );
    const ctx = attemptContext(
      subscriptionWith({ bisectBatchOnError: true, maximumRetryAttempts: 2, onFailureTopic: "dlq" }),
      target,
    );
    const out = await deliverChunk(records(8), ctx);
    expect(out.delivered).toBe(7);
    expect(out.failed.map((f) => [f.record.offset, f.condition, f.reason])).toEqual([
      [poison, "RetryAttemptsExhausted", "poison"],
    ]);
    // Every healthy record was accepted exactly once, in order.
    const accepted = target.batches
      .filter((b) => !b.records.some((r) => r.offset === poison))
      .flatMap((b) => b.records.map((r) => r.offset));
    expect(accepted).toEqual([0, 1, 2, 3, 4, 6, 7]);
    // 8 → 4 → 2 → 1 by splits (no backoff), then the single record retried until past 2 retries.
    expect(target.offsetsPerCall().filter((o) => o.length === 1 && o[0] === poison).length).toBeGreaterThan(
      0,
    );
    expect(out.failed[0].attempts).toBeGreaterThan(2);
  });

  it("a batch too large to send is split even without bisectBatchOnError, and the split spends no retry", async () => {
    // Every piece of more than 2 records is over the (target's) size limit.
    const target = new ScriptedTarget((batch) =>
      batch.records.length > 2
        ? { outcome: "error", reason: "over the payload limit", tooLarge: true }
        : { outcome: "success" },
    );
    const ctx = attemptContext(subscriptionWith({ bisectBatchOnError: false }), target);
    const out = await deliverChunk(records(8), ctx);
    expect(out).toMatchObject({ delivered: 8, failed: [], pending: [] });
    expect(target.offsetsPerCall()).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [0, 1, 2, 3],
      [0, 1],
      [2, 3],
      [4, 5, 6, 7],
      [4, 5],
      [6, 7],
    ]);
    expect(ctx.sleeps).toEqual([]);
  });

  it("without bisection exhausted retries fail the whole batch with the reason and attempt count", async () => {
    const target = new ScriptedTarget(() => ({ outcome: "error", reason: "HTTP 500" }));
    const ctx = attemptContext(subscriptionWith({ maximumRetryAttempts: 2, onFailureTopic: "dlq" }), target);
    const out = await deliverChunk(records(3), ctx);
    expect(target.batches).toHaveLength(3);
    expect(out.failed.map((f) => [f.record.offset, f.attempts, f.reason])).toEqual([
      [0, 3, "HTTP 500"],
      [1, 3, "HTTP 500"],
      [2, 3, "HTTP 500"],
    ]);
    expect(out).toMatchObject({ delivered: 0, retried: 2, pending: [] });
  });

  it("records older than maximumRecordAgeMs fail without being sent; younger ones are delivered", async () => {
    const target = new ScriptedTarget(() => ({ outcome: "success" }));
    const ctx = attemptContext(
      subscriptionWith({ maximumRecordAgeMs: 1_000, onFailureTopic: "dlq" }),
      target,
    );
    const chunk = [...records(2, { timestamp: 1_000 }), ...records(2, { from: 2, timestamp: 9_500 })];
    const out = await deliverChunk(chunk, ctx);
    expect(out.failed.map((f) => [f.record.offset, f.condition])).toEqual([
      [0, "RecordAgeExceeded"],
      [1, "RecordAgeExceeded"],
    ]);
    expect(target.offsetsPerCall()).toEqual([[2, 3]]);
  });

  it("records that age out while being retried go to the failure destination", async () => {
    const target = new ScriptedTarget(() => ({ outcome: "error", reason: "down" }));
    const ctx = attemptContext(
      subscriptionWith({ maximumRecordAgeMs: 2_000, onFailureTopic: "dlq" }),
      target,
    );
    const out = await deliverChunk(records(2, { timestamp: 9_000 }), ctx);
    expect(out.failed.map((f) => f.condition)).toEqual(["RecordAgeExceeded", "RecordAgeExceeded"]);
    expect(out.failed[0].attempts).toBe(target.batches.length);
    expect(ctx.now.value).toBeGreaterThan(11_000);
  });

  it("stops between attempts when told to, returning the unsettled records", async () => {
    let stop = false;
    const target = new ScriptedTarget((_, call) => {
      if (call === 2) stop = true;
      return call === 1
        ? { outcome: "partial", firstFailedOffset: 2, reason: "x" }
        : { outcome: "error", reason: "y" };
    });
    const ctx = attemptContext(subscriptionWith(), target, { stopping: () => stop });
    const out = await deliverChunk(records(5), ctx);
    expect(out.delivered).toBe(2);
    expect(out.pending.map((r) => r.offset)).toEqual([2, 3, 4]);
    expect(target.batches).toHaveLength(2);
  });

  it("a target that throws is an error result, not a crash", async () => {
    const target = new ScriptedTarget((_, call) => {
      if (call === 1) throw new Error("boom");
      return { outcome: "success" };
    });
    const out = await deliverChunk(records(1), attemptContext(subscriptionWith(), target));
    expect(out.delivered).toBe(1);
    expect(out.retried).toBe(1);
  });
});
