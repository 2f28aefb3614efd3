import { describe, expect, it } from "vitest";
import {
  batchItemFailuresResult,
  itemIdentifier,
} from "../../../../src/subscriptions/targets/batch-item-failures.js";
import type { DeliveryRecord } from "../../../../src/subscriptions/types.js";

const record = (offset: number, topic = "orders-eu", partition = 3): DeliveryRecord => ({
  topic,
  partition,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  key: null,
  value: null,
  headers: [],
});
const batch = [10, 11, 12, 13].map((o) => record(o));
const failures = (...ids: unknown[]) =>
  JSON.stringify({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
const lambdaForm = { bareOffsets: false };
const httpForm = { bareOffsets: true };

describe("batchItemFailuresResult", () => {
  it("is success for every response that names no failure (Lambda's success conditions)", () => {
    for (const body of [
      "",
      "OK",
      "null",
      "[]",
      '"done"',
      "{}",
      '{"batchItemFailures":null}',
      '{"batchItemFailures":[]}',
      "{not json",
    ]) {
      expect(batchItemFailuresResult(body, batch, httpForm), body).toEqual({ outcome: "success" });
    }
  });

  it("checkpoints before the lowest failed offset, in Lambda's {topic}-{partition}-{offset} form", () => {
    expect(itemIdentifier(record(12))).toBe("orders-eu-3-12");
    const result = batchItemFailuresResult(failures("orders-eu-3-13", "orders-eu-3-11"), batch, lambdaForm);
    expect(result).toMatchObject({ outcome: "partial", firstFailedOffset: 11 });
    expect(result.outcome === "partial" && result.reason).toMatch(/2 failed record\(s\).*offset 11/);
  });

  it("takes a bare offset, number or numeric string, only where asked (the HTTP target)", () => {
    expect(batchItemFailuresResult(failures(12), batch, httpForm)).toMatchObject({
      outcome: "partial",
      firstFailedOffset: 12,
    });
    expect(batchItemFailuresResult(failures("12", "orders-eu-3-13"), batch, httpForm)).toMatchObject({
      outcome: "partial",
      firstFailedOffset: 12,
    });
    expect(batchItemFailuresResult(failures(12), batch, lambdaForm).outcome).toBe("error");
    expect(batchItemFailuresResult(failures("12"), batch, lambdaForm).outcome).toBe("error");
  });

  it("fails the whole batch on an identifier that is empty, null, malformed or not in the batch", () => {
    const bad: unknown[] = [
      "",
      null,
      undefined,
      "orders-eu-3-99", // not in the batch
      "orders-eu-4-12", // another partition
      "orders-3-12", // another topic
      "orders-eu-3-12 ", // malformed
      "12.0",
      "-12",
      12.5,
      99,
      { offset: 12 },
    ];
    for (const id of bad) {
      const result = batchItemFailuresResult(failures("orders-eu-3-11", id), batch, httpForm);
      expect(result.outcome, JSON.stringify(id)).toBe("error");
      expect(result.outcome === "error" && result.reason).toMatch(/names no record of the batch/);
    }
    expect(batchItemFailuresResult('{"batchItemFailures":[12]}', batch, httpForm).outcome).toBe("error");
    expect(batchItemFailuresResult('{"batchItemFailures":[{}]}', batch, httpForm).outcome).toBe("error");
    expect(batchItemFailuresResult('{"batchItemFailures":"orders-eu-3-11"}', batch, httpForm).outcome).toBe(
      "error",
    );
  });

  it("matches topics that contain dashes and digits exactly", () => {
    const tricky = [record(5, "a-1-2", 0), record(6, "a-1-2", 0)];
    expect(batchItemFailuresResult(failures("a-1-2-0-6"), tricky, lambdaForm)).toMatchObject({
      outcome: "partial",
      firstFailedOffset: 6,
    });
    expect(batchItemFailuresResult(failures("a-1-2-0"), tricky, lambdaForm).outcome).toBe("error");
  });

  it("bounds how much of a bad identifier a reason quotes", () => {
    const result = batchItemFailuresResult(failures("x".repeat(10_000)), batch, httpForm);
    expect(result.outcome === "error" && result.reason.length).toBeLessThan(300);
  });
});
