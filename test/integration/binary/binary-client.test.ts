import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Floe } from "../../../src/client/floe.js";
import type { FetchFn } from "../../../src/client/http-transport.js";
import { type DevServer, startDevServer } from "../../../src/server/dev-server.js";
import { PARTITION_BATCHES_MEDIA_TYPE } from "../../../src/api/routes/multi-produce-route.js";
import { RECORD_BATCH } from "./batches.js";

/** The client's default (binary) path against a real dev server, cross-checked with the JSON path. */
let server: DevServer;
const seen: { method: string; path: string; contentType: string | null; accept: string | null }[] = [];
const recording: FetchFn = (input, init) => {
  const headers = new Headers(init.headers);
  seen.push({
    method: init.method ?? "GET",
    path: new URL(input).pathname,
    contentType: headers.get("content-type"),
    accept: headers.get("accept"),
  });
  return fetch(input, init);
};
let binary: Floe;
let json: Floe;

beforeAll(async () => {
  server = await startDevServer({ port: 0, storage: "memory", log: () => {} });
  binary = new Floe({ url: server.url, fetch: recording });
  json = new Floe({ url: server.url, protocol: "json" });
});

afterAll(async () => {
  await server?.close();
});

describe("binary Producer and PartitionReader", () => {
  it("sends every partition's RecordBatch bytes in one POST /v1/records and reads batches back, the same records the JSON path sees", async () => {
    await binary.admin().createTopic({ topic: "bc-t", numPartitions: 3 });
    seen.length = 0;
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const messages = [
      { key: "user-1", value: everyByte, headers: { raw: everyByte, empty: "" } },
      { key: "user-2", value: "two", timestamp: 1_700_000_000_000 },
      { key: "user-1", value: null },
      { value: "\ufeffBOM 😀", partition: 2 },
    ];
    const sent = await binary.producer().send({ topic: "bc-t", messages });
    const viaJson = await json.producer().send({ topic: "bc-t", messages: messages.slice(0, 3) });
    // Kafka's partitioner, on both sides of the wire: equal keys land together either way.
    expect(viaJson.map((m) => m.partition)).toEqual(sent.slice(0, 3).map((m) => m.partition));
    expect(sent[3].partition).toBe(2);
    // One send to two partitions (the keyed records' and partition 2) is one request.
    const produces = seen.filter((r) => r.method === "POST" && r.path.endsWith("/records"));
    expect(produces).toEqual([
      expect.objectContaining({ path: "/v1/records", contentType: PARTITION_BATCHES_MEDIA_TYPE }),
    ]);

    for (const { partition, offset } of sent) {
      const [a, b] = await Promise.all([
        binary.reader().fetch({ topic: "bc-t", partition, offset, maxRecords: 1 }),
        json.reader().fetch({ topic: "bc-t", partition, offset, maxRecords: 1 }),
      ]);
      expect(a.records).toEqual(b.records);
      expect(a.records[0].offset).toBe(offset);
      expect(a.nextOffset).toBe(offset + 1);
      expect(a.highWatermark).toBe(b.highWatermark);
    }
    const [first] = (
      await binary.reader().fetch({ topic: "bc-t", partition: sent[0].partition, offset: sent[0].offset })
    ).records;
    expect(first.value).toEqual(everyByte);
    expect(first.headers).toEqual({ raw: everyByte, empty: Buffer.alloc(0) });
    expect(seen.some((r) => r.method === "GET" && r.accept?.startsWith(RECORD_BATCH))).toBe(true);
  });

  it("skips the records of the first batch that lie before the requested offset", async () => {
    await binary.admin().createTopic({ topic: "bc-mid", numPartitions: 1 });
    await binary
      .producer()
      .send({ topic: "bc-mid", messages: ["a", "b", "c", "d"].map((value) => ({ value })) });
    const { records, nextOffset } = await binary.reader().fetch({ topic: "bc-mid", partition: 0, offset: 2 });
    expect(records.map((r) => [r.offset, r.value?.toString()])).toEqual([
      [2, "c"],
      [3, "d"],
    ]);
    expect(nextOffset).toBe(4);
  });

  it("keeps one key's records in order across concurrent sends", async () => {
    await binary.admin().createTopic({ topic: "bc-order", numPartitions: 4 });
    const producer = binary.producer();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        producer.send({ topic: "bc-order", messages: [{ key: "same", value: `m${i}` }] }),
      ),
    );
    const partition = answers[0][0].partition;
    expect(answers.every(([m]) => m.partition === partition)).toBe(true);
    expect(answers.map(([m]) => m.offset)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("without idempotence, auto-creates an unknown topic through the JSON route, then switches to batches without reordering", async () => {
    const producer = binary.producer({ metadataMaxAgeMs: 0, idempotent: false });
    seen.length = 0;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.send({ topic: "bc-auto", messages: [{ value: `m${i}` }] }),
      ),
    );
    const later = await producer.send({ topic: "bc-auto", messages: [{ value: "last" }] });
    expect(answers.map(([m]) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(later[0].offset).toBe(20);
    expect(seen.some((r) => r.path === "/v1/topics/bc-auto/records")).toBe(true);
    expect(seen.at(-1)?.path).toBe("/v1/records");
    const { records } = await binary
      .reader()
      .fetch({ topic: "bc-auto", partition: 0, offset: 0, maxRecords: 100 });
    expect(records.map((r) => r.value?.toString())).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `m${i}`),
      "last",
    ]);
  });

  it("with idempotence (the default), has an unknown topic created by its metadata lookup and sends batches from the first", async () => {
    const producer = binary.producer();
    seen.length = 0;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer.send({ topic: "bc-auto-idem", messages: [{ value: `m${i}` }] }),
      ),
    );
    expect(answers.map(([m]) => m.offset)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(seen.some((r) => r.path === "/v1/topics/bc-auto-idem/records")).toBe(false);
    expect(seen.filter((r) => r.path === "/v1/producers")).toHaveLength(1);
    const { records } = await binary
      .reader()
      .fetch({ topic: "bc-auto-idem", partition: 0, offset: 0, maxRecords: 100 });
    expect(records.map((r) => r.value?.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it("refuses a record over max.message.bytes with the server's 413, leaving the others in its batch", async () => {
    await binary.admin().createTopic({
      topic: "bc-big",
      numPartitions: 1,
      configEntries: [{ name: "max.message.bytes", value: "2000" }],
    });
    const producer = binary.producer();
    const [small, big] = await Promise.allSettled([
      producer.send({ topic: "bc-big", messages: [{ value: "ok" }] }),
      producer.send({ topic: "bc-big", messages: [{ value: Buffer.alloc(5000) }] }),
    ]);
    expect(small.status).toBe("fulfilled");
    expect(big.status === "rejected" && big.reason).toMatchObject({ code: "RECORD_TOO_LARGE", status: 413 });
  });
});
