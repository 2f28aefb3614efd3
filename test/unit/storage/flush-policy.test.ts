import { describe, expect, it } from "vitest";
import { OptionReader, parseArgs, UsageError } from "../../../src/cli/args.js";
import { FLUSH_OPTIONS, readFlushPolicy } from "../../../src/cli/server-options.js";
import { describeFlushPolicy, flushPolicyOf, storeSyncModes } from "../../../src/storage/flush-policy.js";

function flags(...argv: string[]) {
  return readFlushPolicy(new OptionReader(parseArgs(argv, FLUSH_OPTIONS)));
}

describe("flushPolicyOf (Kafka's log.flush.interval.*)", () => {
  it("defaults to Kafka's: never flush, the OS page cache", () => {
    expect(flushPolicyOf()).toEqual({ mode: "os" });
    expect(flushPolicyOf({})).toEqual({ mode: "os" });
  });

  it("flushes every commit at log.flush.interval.messages=1, whatever the interval", () => {
    expect(flushPolicyOf({ "log.flush.interval.messages": 1 })).toEqual({ mode: "every-commit" });
    expect(flushPolicyOf({ "log.flush.interval.messages": 1, "log.flush.interval.ms": 1000 })).toEqual({
      mode: "every-commit",
    });
  });

  it("flushes on an interval at log.flush.interval.ms", () => {
    expect(flushPolicyOf({ "log.flush.interval.ms": 250 })).toEqual({ mode: "interval", intervalMs: 250 });
  });

  it("refuses what it cannot honour with INVALID_CONFIG: counts above 1, and nonsense", () => {
    for (const settings of [
      { "log.flush.interval.messages": 2 },
      { "log.flush.interval.messages": 10_000 },
      { "log.flush.interval.messages": 0 },
      { "log.flush.interval.messages": 1.5 },
      { "log.flush.interval.ms": 0 },
      { "log.flush.interval.ms": -1 },
      { "log.flush.interval.ms": Number.NaN },
    ]) {
      expect(() => flushPolicyOf(settings), JSON.stringify(settings)).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });

  it("maps each policy to what each store does", () => {
    expect(storeSyncModes({ mode: "os" })).toEqual({ objects: "never", metaSyncEachCommit: false });
    expect(storeSyncModes({ mode: "every-commit" })).toEqual({ objects: "each", metaSyncEachCommit: true });
    expect(storeSyncModes({ mode: "interval", intervalMs: 100 })).toEqual({
      objects: "on-flush",
      metaSyncEachCommit: false,
      flushIntervalMs: 100,
    });
  });

  it("says in the banner what an acknowledged record survives", () => {
    expect(describeFlushPolicy({ mode: "os" })).toMatch(/survive a process crash, not a power loss/);
    expect(describeFlushPolicy({ mode: "every-commit" })).toMatch(/survive a power loss/);
    expect(describeFlushPolicy({ mode: "interval", intervalMs: 100 })).toMatch(/every 100 ms/);
  });
});

describe("floe dev's --log-flush-interval-* flags", () => {
  it("leave the default when absent and read each flag", () => {
    expect(flags()).toBeUndefined();
    expect(flags("--log-flush-interval-messages", "1")).toEqual({ mode: "every-commit" });
    expect(flags("--log-flush-interval-ms", "1000")).toEqual({ mode: "interval", intervalMs: 1000 });
  });

  it("refuse a count above 1, zero and non-numbers, naming the flag", () => {
    for (const argv of [
      ["--log-flush-interval-messages", "2"],
      ["--log-flush-interval-messages", "0"],
      ["--log-flush-interval-ms", "0"],
      ["--log-flush-interval-ms", "soon"],
    ]) {
      expect(() => flags(...argv), argv.join(" ")).toThrow(UsageError);
      expect(() => flags(...argv)).toThrow(new RegExp(argv[0]));
    }
  });
});
