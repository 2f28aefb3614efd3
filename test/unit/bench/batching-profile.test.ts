import { describe, expect, it } from "vitest";
import { BATCHING_PROFILES, parseByteSize, resolveBatching } from "../../../src/server/batching-profile.js";

describe("batching profiles", () => {
  it("resolves a profile, flags overriding its values", () => {
    expect(resolveBatching()).toEqual({ profile: "default", lingerMs: 0, maxBatchBytes: 4 * 1024 * 1024 });
    expect(resolveBatching({ lingerMs: 5 })).toEqual({
      profile: "default",
      lingerMs: 5,
      maxBatchBytes: 4 * 1024 * 1024,
    });
    expect(resolveBatching({ profile: "low-cost" })).toEqual({
      profile: "low-cost",
      ...BATCHING_PROFILES["low-cost"],
    });
    expect(resolveBatching({ profile: "low-latency", lingerMs: 2 })).toMatchObject({
      lingerMs: 2,
      maxBatchBytes: 1024 * 1024,
    });
    expect(() => resolveBatching({ profile: "cheap" as never })).toThrow(/unknown batching profile/);
  });

  it("keeps the low-cost profile's objects at 4 MiB or more when the size bound ends a batch", () => {
    expect(BATCHING_PROFILES["low-cost"].maxBatchBytes).toBeGreaterThan(4 * 1024 * 1024);
  });

  it("parses byte sizes with binary units", () => {
    expect(parseByteSize("1048576")).toBe(1048576);
    expect(parseByteSize("512KiB")).toBe(512 * 1024);
    expect(parseByteSize("4MiB")).toBe(4 * 1024 * 1024);
    expect(parseByteSize("4 mb")).toBe(4 * 1024 * 1024);
    expect(parseByteSize("0")).toBeUndefined();
    expect(parseByteSize("4GB")).toBeUndefined();
    expect(parseByteSize("-1")).toBeUndefined();
  });
});
