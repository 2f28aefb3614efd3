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

  it("refuse what the server cannot honour and values that are not limits, as INVALID_CONFIG", () => {
    expect(() => fetchSettings({ groupId: "g", fetchMinBytes: 1024 })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringContaining("fetch.min.bytes"),
      }),
    );
    expect(() => fetchSettings({ groupId: "g", minBytes: 2 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG" }),
    );
    for (const bad of [
      { fetchMaxBytes: 0 },
      { fetchMaxWaitMs: -1 },
      { maxPartitionFetchBytes: 1.5 },
      { maxRecords: 0 },
    ]) {
      expect(() => fetchSettings({ groupId: "g", ...bad })).toThrow(
        expect.objectContaining({ code: "INVALID_CONFIG" }),
      );
    }
  });
});
