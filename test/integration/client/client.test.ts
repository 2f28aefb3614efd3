import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Floe } from "../../../src/client/floe.js";
import { FloeClientError } from "../../../src/client/client-error.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";

/** The client against a real dev server over real HTTP, on the memory backend. */
let server: DevServer;
let floe: Floe;

beforeAll(async () => {
  server = await startDevServer({ port: 0, storage: "memory", log: () => {} });
  floe = new Floe({ url: server.url });
});

afterAll(async () => {
  await server?.close();
});

async function refusal(p: Promise<unknown>): Promise<FloeClientError> {
  const error = await p.then(
    () => {
      throw new Error("expected the server to refuse");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FloeClientError);
  return error as FloeClientError;
}

describe("Admin", () => {
  it("creates, lists, describes, alters and deletes a topic", async () => {
    const admin = floe.admin();
    await admin.createTopic({
      topic: "admin-t",
      numPartitions: 2,
      configEntries: [{ name: "retention.ms", value: "60000" }],
    });
    expect(await admin.listTopics()).toContain("admin-t");

    const described = await admin.describeTopic("admin-t");
    expect(described.name).toBe("admin-t");
    expect(described.topicId).toMatch(/^[0-9a-f-]{36}$/);
    expect(described.partitions).toEqual([
      { partition: 0, logStartOffset: 0, highWatermark: 0, bytes: 0, leaderEpoch: 0, leaseOwner: null },
      { partition: 1, logStartOffset: 0, highWatermark: 0, bytes: 0, leaderEpoch: 0, leaseOwner: null },
    ]);
    expect(described.config["retention.ms"]).toBe(60000);
    expect(described.configOverrides).toEqual({ "retention.ms": 60000 });

    await admin.createPartitions({ topicPartitions: [{ topic: "admin-t", count: 3 }] });
    await admin.alterTopic("admin-t", { config: { "retention.ms": null, "cleanup.policy": "compact" } });
    const altered = await admin.describeTopic("admin-t");
    expect(altered.partitions).toHaveLength(3);
    expect(altered.configOverrides).toEqual({ "cleanup.policy": "compact" });

    await admin.deleteTopics({ topics: ["admin-t"] });
    expect(await admin.listTopics()).not.toContain("admin-t");
  });

  it("answers KafkaJS's createTopics: true when created, false when it already existed", async () => {
    const admin = floe.admin();
    expect(await admin.createTopics({ topics: [{ topic: "exists-t" }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: "exists-t" }] })).toBe(false);
    const error = await refusal(admin.createTopic({ topic: "exists-t" }));
    expect(error).toMatchObject({ code: "TOPIC_ALREADY_EXISTS", status: 409, retriable: false });
  });

  it("carries the server's Kafka error code, message and status", async () => {
    const unknown = await refusal(floe.admin().describeTopic("no-such-topic"));
    expect(unknown).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", status: 404, retriable: false });
    expect(unknown.message).toContain("no-such-topic");

    const invalid = await refusal(floe.admin().createTopic({ topic: "bad name!" }));
    expect(invalid).toMatchObject({ code: "INVALID_TOPIC_EXCEPTION", status: 400 });

    const partitions = await refusal(floe.admin().createTopic({ topic: "zero-t", numPartitions: 0 }));
    expect(partitions).toMatchObject({ code: "INVALID_PARTITIONS", status: 400 });
  });
});

describe("Producer and PartitionReader", () => {
  it("round-trips arbitrary bytes in keys, values and headers, and tombstones", async () => {
    await floe.admin().createTopic({ topic: "bytes-t", numPartitions: 1 });
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const producer = floe.producer();
    const sent = await producer.send({
      topic: "bytes-t",
      messages: [
        { key: everyByte, value: everyByte, headers: { raw: everyByte, text: "ü", empty: "" } },
        { key: "k", value: "" },
        { key: "gone", value: null, timestamp: 1_700_000_000_000 },
        { value: "\ufeffBOM and 😀" },
      ],
    });
    expect(sent).toEqual([0, 1, 2, 3].map((offset) => ({ topic: "bytes-t", partition: 0, offset })));

    const fetched = await floe.reader().fetch({ topic: "bytes-t", partition: 0, offset: 0 });
    expect(fetched.nextOffset).toBe(4);
    expect(fetched.highWatermark).toBe(4);
    expect(fetched.logStartOffset).toBe(0);
    const [binary, empty, tombstone, text] = fetched.records;
    expect(binary.key).toEqual(everyByte);
    expect(binary.value).toEqual(everyByte);
    expect(binary.headers).toEqual({ raw: everyByte, text: Buffer.from("ü"), empty: Buffer.alloc(0) });
    expect(empty.value).toEqual(Buffer.alloc(0));
    expect(tombstone).toMatchObject({
      offset: 2,
      key: Buffer.from("gone"),
      value: null,
      timestamp: 1_700_000_000_000,
    });
    expect(text.value?.toString("utf8")).toBe("\ufeffBOM and 😀");
    expect(text.key).toBeNull();
  });

  it("coalesces concurrent sends and gives each caller its own offsets, in order", async () => {
    await floe.admin().createTopic({ topic: "batch-t", numPartitions: 1 });
    const producer = floe.producer();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        producer.send({ topic: "batch-t", messages: [{ value: `m${i}` }] }),
      ),
    );
    expect(answers.map(([m]) => m.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const { records } = await floe
      .reader()
      .fetch({ topic: "batch-t", partition: 0, offset: 0, maxRecords: 100 });
    expect(records.map((r) => r.value?.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
  });

  it("puts equal keys in the same partition and honours an explicit partition", async () => {
    await floe.admin().createTopic({ topic: "keys-t", numPartitions: 4 });
    const producer = floe.producer();
    const sent = await producer.send({
      topic: "keys-t",
      messages: [
        { key: "user-1", value: "a" },
        { key: "user-1", value: "b" },
        { value: "c", partition: 3 },
      ],
    });
    expect(sent[0].partition).toBe(sent[1].partition);
    expect(sent[1].offset).toBe(sent[0].offset + 1);
    expect(sent[2].partition).toBe(3);
  });

  it("auto-creates a topic on first produce, as floe dev does", async () => {
    await floe.producer().send({ topic: "auto-t", messages: [{ value: "x" }] });
    expect(await floe.admin().listTopics()).toContain("auto-t");
  });

  it("refuses a partition that does not exist, without retrying", async () => {
    await floe.admin().createTopic({ topic: "one-t", numPartitions: 1 });
    const error = await refusal(
      floe.producer().send({ topic: "one-t", messages: [{ value: "x", partition: 5 }] }),
    );
    expect(error.retriable).toBe(false);
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.status).toBeLessThan(500);
  });

  it("lists offsets: earliest, latest and by timestamp", async () => {
    await floe.admin().createTopic({ topic: "offsets-t", numPartitions: 1 });
    await floe.producer().send({
      topic: "offsets-t",
      messages: [1000, 2000, 3000].map((timestamp) => ({ value: String(timestamp), timestamp })),
    });
    const reader = floe.reader();
    expect(await reader.listOffsets({ topic: "offsets-t", partition: 0, at: "earliest" })).toMatchObject({
      offset: 0,
    });
    expect(await reader.listOffsets({ topic: "offsets-t", partition: 0, at: "latest" })).toMatchObject({
      offset: 3,
    });
    expect(await reader.listOffsets({ topic: "offsets-t", partition: 0, at: 1500 })).toEqual({
      partition: 0,
      offset: 1,
      timestamp: 2000,
    });
  });

  it("answers OFFSET_OUT_OF_RANGE past the high-water mark", async () => {
    await floe.admin().createTopic({ topic: "range-t", numPartitions: 1 });
    const error = await refusal(floe.reader().fetch({ topic: "range-t", partition: 0, offset: 5 }));
    expect(error).toMatchObject({ code: "OFFSET_OUT_OF_RANGE", status: 416 });
  });

  it("long-polls at the high-water mark until a record arrives", async () => {
    await floe.admin().createTopic({ topic: "poll-t", numPartitions: 1 });
    const polling = floe.reader().fetch({ topic: "poll-t", partition: 0, offset: 0, maxWaitMs: 20_000 });
    await floe.producer().send({ topic: "poll-t", messages: [{ value: "late" }] });
    const { records } = await polling;
    expect(records.map((r) => r.value?.toString())).toEqual(["late"]);
  });

  it("fetches many partitions in one call, with errors per partition", async () => {
    await floe.admin().createTopic({ topic: "many-t", numPartitions: 2 });
    await floe.producer().send({
      topic: "many-t",
      messages: [
        { value: "p0", partition: 0 },
        { value: "p1", partition: 1 },
      ],
    });
    const results = await floe.reader().fetchMany({
      partitions: [
        { topic: "many-t", partition: 0, offset: 0 },
        { topic: "many-t", partition: 1, offset: 0 },
        { topic: "missing-t", partition: 0, offset: 0 },
      ],
    });
    expect(results).toHaveLength(3);
    const [p0, p1, missing] = results;
    expect("records" in p0 && p0.records.map((r) => r.value?.toString())).toEqual(["p0"]);
    expect("records" in p1 && p1.records.map((r) => r.value?.toString())).toEqual(["p1"]);
    expect("error" in missing && missing.error.code).toBe("UNKNOWN_TOPIC_OR_PARTITION");
  });

  it("reports health", async () => {
    expect(await floe.health()).toBeTruthy();
  });
});
