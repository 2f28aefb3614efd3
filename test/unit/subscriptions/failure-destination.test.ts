import { describe, expect, it } from "vitest";
import { failureRecords } from "../../../src/subscriptions/failure-destination.js";
import { records, subscriptionWith } from "./delivery-fixtures.js";

const text = (b: Uint8Array | null | undefined) => (b == null ? null : new TextDecoder().decode(b));

describe("failureRecords", () => {
  it("keeps key, value and headers and adds what failed, where, and why", () => {
    const [record] = records(1, { from: 42, key: () => "k", timestamp: 1_234 });
    record.headers = [{ key: "trace", value: new TextEncoder().encode("abc") }];
    const [out] = failureRecords(subscriptionWith({ name: "orders-hook", onFailureTopic: "dlq" }), [
      { record, condition: "RetryAttemptsExhausted", reason: "HTTP 500", attempts: 3 },
    ]);
    expect(text(out.key)).toBe("k");
    expect(text(out.value)).toBe("v42");
    expect(out.headers!.map((h) => [h.key, text(h.value)])).toEqual([
      ["trace", "abc"],
      ["floe.failure.reason", "RetryAttemptsExhausted: HTTP 500"],
      ["floe.failure.subscription", "orders-hook"],
      ["floe.failure.topic", "t"],
      ["floe.failure.partition", "0"],
      ["floe.failure.offset", "42"],
      ["floe.failure.timestamp", "1234"],
      ["floe.failure.attempts", "3"],
    ]);
  });
});
