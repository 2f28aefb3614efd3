import { describe, expect, it } from "vitest";
import { FloeError } from "../../../src/errors.js";
import { groupErrorCode, isUnknownTopic } from "../../../src/kafka/apis/group-error-codes.js";

describe("group error codes on the wire", () => {
  it("answers a retriable failure with COORDINATOR_LOAD_IN_PROGRESS, which every group client retries", () => {
    const busy = new FloeError("CONCURRENT_TRANSACTIONS", "busy", { retriable: true });
    expect(groupErrorCode(busy)).toBe(14);
    expect(groupErrorCode(busy, { classic: true })).toBe(14);
  });

  it("tells a classic client of a stale or fenced epoch ILLEGAL_GENERATION, a KIP-848 client the epoch error itself", () => {
    for (const [code, number] of [
      ["STALE_MEMBER_EPOCH", 113],
      ["FENCED_MEMBER_EPOCH", 110],
    ] as const) {
      const e = new FloeError(code, "epoch");
      expect(groupErrorCode(e, { classic: true })).toBe(22);
      expect(groupErrorCode(e)).toBe(number);
    }
  });

  it("passes every other error through as Kafka numbers it, and anything unexpected as UNKNOWN_SERVER_ERROR", () => {
    expect(groupErrorCode(new FloeError("UNKNOWN_MEMBER_ID", "who"), { classic: true })).toBe(25);
    expect(groupErrorCode(new FloeError("NON_EMPTY_GROUP", "busy"))).toBe(68);
    expect(groupErrorCode(new Error("bug"))).toBe(-1);
  });

  it("counts names Floe refuses as unknown topics", () => {
    expect(isUnknownTopic(new FloeError("UNKNOWN_TOPIC_OR_PARTITION", "x"))).toBe(true);
    expect(isUnknownTopic(new FloeError("INVALID_TOPIC_EXCEPTION", "x"))).toBe(true);
    expect(isUnknownTopic(new FloeError("INVALID_REQUEST", "x"))).toBe(false);
  });
});
