import { describe, expect, it } from "vitest";
import { fetchSettings } from "../../../src/client/consumer-fetch-settings.js";

describe("consumer fetch settings", () => {
  it("default to Kafka's: fetch.min.bytes 1, fetch.max.wait.ms 500, max.partition.fetch.bytes 1 MiB, fetch.max.bytes 50 MiB", () => {
    expect(fetchSettings({ groupId: "g" })).toEqual({
      minBytes: 1,
      maxWaitMs: 500,
      maxPartitionBytes: 1_048_576,
      maxBytes: 52_428_800,
      maxRecords: 500,
    });
  });

  it("take KafkaJS's names, and Kafka's when both are given", () => {
    const kafkajs = {
      groupId: "g",
      maxWaitTimeInMs: 100,
      maxBytes: 4096,
      maxBytesPerPartition: 2048,
      minBytes: 1,
    };
    expect(fetchSettings(kafkajs)).toMatchObject({ maxWaitMs: 100, maxBytes: 4096, maxPartitionBytes: 2048 });
    expect(
      fetchSettings({ ...kafkajs, fetchMaxWaitMs: 0, fetchMaxBytes: 8192, maxPartitionFetchBytes: 1024 }),
    ).toMatchObject({ maxWaitMs: 0, maxBytes: 8192, maxPartitionBytes: 1024 });
  });

  it("take any fetch.min.bytes Kafka takes, 0 included, where they used to be refused", () => {
    expect(fetchSettings({ groupId: "g", fetchMinBytes: 2048 })).toMatchObject({ minBytes: 2048 });
    expect(fetchSettings({ groupId: "g", minBytes: 2 })).toMatchObject({ minBytes: 2 });
    expect(fetchSettings({ groupId: "g", minBytes: 2, fetchMinBytes: 0 })).toMatchObject({ minBytes: 0 });
    expect(fetchSettings({ groupId: "g", maxPartitionFetchBytes: 0 })).toMatchObject({
      maxPartitionBytes: 0,
    });
  });

  it("refuse values that are not limits, as INVALID_CONFIG naming the setting", () => {
    for (const [bad, name] of [
      [{ fetchMinBytes: -1 }, "fetchMinBytes"],
      [{ minBytes: 1.5 }, "fetchMinBytes"],
      [{ fetchMaxBytes: 0 }, "fetchMaxBytes"],
      [{ fetchMaxWaitMs: -1 }, "fetchMaxWaitMs"],
      [{ maxPartitionFetchBytes: 1.5 }, "maxPartitionFetchBytes"],
      [{ maxBytesPerPartition: -1 }, "maxPartitionFetchBytes"],
      [{ maxRecords: 0 }, "maxRecords"],
    ] as const) {
      expect(() => fetchSettings({ groupId: "g", ...bad })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining(name) }),
      );
    }
  });
});
