import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRecordBatch, type LogRecord } from "../../../src/log/record-batch.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

/** POST /v1/records: many partitions' RecordBatch v2 bytes in one request (Kafka's Produce). */
const MEDIA = "application/vnd.floe.partition-batches.v1";

function records(n: number, prefix: string): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    key: null,
    value: Buffer.from(`${prefix}${i}`),
    headers: [],
    timestamp: 1_700_000_000_000,
  }));
}

/** One entry as the route's description frames it. */
function entry(topic: string, partition: number, batches: Uint8Array): Buffer {
  const name = Buffer.from(topic, "latin1");
  const head = Buffer.alloc(2 + name.length + 8);
  head.writeUInt16BE(name.length, 0);
  name.copy(head, 2);
  head.writeInt32BE(partition, 2 + name.length);
  head.writeInt32BE(batches.length, 6 + name.length);
  return Buffer.concat([head, batches]);
}

describe.each(apiStorages)("POST /v1/records on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage);
  });
  afterAll(async () => {
    await s?.close();
  });

  const post = (body: Uint8Array, contentType = MEDIA) =>
    s.raw("POST", "/v1/records", body, { "content-type": contentType });

  async function topic(partitions: number): Promise<string> {
    const t = uniqueTopic("multi");
    expect((await s.call("POST", "/v1/topics", { name: t, partitions })).status).toBe(201);
    return t;
  }

  async function marks(t: string): Promise<number[]> {
    const res = await s.call("GET", `/v1/topics/${t}`);
    return res.body.partitions.map((p: { highWatermark: number }) => p.highWatermark);
  }

  async function values(t: string, partition: number): Promise<string[]> {
    const res = await s.call(
      "GET",
      `/v1/topics/${t}/partitions/${partition}/records?offset=0&encoding=string`,
    );
    return res.body.records.map((r: { value: string }) => r.value);
  }

  it("appends every entry, across topics and partitions, and answers each one's offsets in body order", async () => {
    const a = await topic(2);
    const b = await topic(1);
    const body = Buffer.concat([
      entry(a, 1, encodeRecordBatch(records(2, "a1-"))),
      entry(b, 0, encodeRecordBatch(records(3, "b0-"))),
      entry(a, 0, encodeRecordBatch(records(1, "a0-"))),
      // A second entry for a partition lands after the first.
      entry(a, 1, Buffer.concat([encodeRecordBatch(records(1, "x")), encodeRecordBatch(records(1, "y"))])),
    ]);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      results: [
        { topic: a, partition: 1, baseOffset: 0, count: 2 },
        { topic: b, partition: 0, baseOffset: 0, count: 3 },
        { topic: a, partition: 0, baseOffset: 0, count: 1 },
        { topic: a, partition: 1, baseOffset: 2, count: 2 },
      ],
    });
    expect(await values(a, 1)).toEqual(["a1-0", "a1-1", "x0", "y0"]);
    expect(await values(b, 0)).toEqual(["b0-0", "b0-1", "b0-2"]);
  });

  it("answers each partition's own error beside the others' offsets", async () => {
    const t = await topic(1);
    const corrupt = Buffer.from(encodeRecordBatch(records(1, "bad")));
    corrupt[corrupt.length - 1] ^= 0xff; // breaks the CRC
    const res = await post(
      Buffer.concat([
        entry(t, 0, encodeRecordBatch(records(1, "ok"))),
        entry(t, 5, encodeRecordBatch(records(1, "no such partition"))),
        entry(t, 0, corrupt),
      ]),
    );
    expect(res.status).toBe(200);
    const [ok, missing, bad] = res.body.results;
    expect(ok).toEqual({ topic: t, partition: 0, baseOffset: 0, count: 1 });
    expect(missing).toMatchObject({
      topic: t,
      partition: 5,
      error: { code: "UNKNOWN_TOPIC_OR_PARTITION", retriable: false, status: 404 },
    });
    expect(bad).toMatchObject({ partition: 0, error: { code: "CORRUPT_MESSAGE", status: 400 } });
    expect(await values(t, 0)).toEqual(["ok0"]);
  });

  it("refuses a body that does not frame, appending nothing", async () => {
    const t = await topic(1);
    const good = entry(t, 0, encodeRecordBatch(records(1, "v")));
    const oversize = Buffer.alloc(4 * 1024 * 1024 + 1);
    const cases: [string, Uint8Array, number, string][] = [
      [
        "a truncated entry after a good one",
        Buffer.concat([good, good.subarray(0, good.length - 1)]),
        400,
        "CORRUPT_MESSAGE",
      ],
      ["a header cut short", Buffer.concat([good, good.subarray(0, 5)]), 400, "CORRUPT_MESSAGE"],
      [
        "an entry with no batches",
        Buffer.concat([good, entry(t, 0, new Uint8Array(0))]),
        400,
        "INVALID_REQUEST",
      ],
      [
        "a negative partition",
        Buffer.concat([good, entry(t, -1, encodeRecordBatch(records(1, "v")))]),
        400,
        "INVALID_REQUEST",
      ],
      [
        "an illegal topic name",
        Buffer.concat([good, entry("no/such", 0, encodeRecordBatch(records(1, "v")))]),
        400,
        "INVALID_TOPIC_EXCEPTION",
      ],
      [
        "an empty topic name",
        Buffer.concat([good, entry("", 0, encodeRecordBatch(records(1, "v")))]),
        400,
        "INVALID_TOPIC_EXCEPTION",
      ],
      ["a body past the limit", oversize, 413, "MESSAGE_TOO_LARGE"],
    ];
    for (const [what, body, status, code] of cases) {
      const res = await post(body);
      expect([what, res.status, res.body.error?.code]).toEqual([what, status, code]);
    }
    const empty = await s.raw("POST", "/v1/records", "", { "content-type": MEDIA });
    expect([empty.status, empty.body.error?.code]).toEqual([400, "INVALID_REQUEST"]);
    const wrongType = await post(good, "application/vnd.kafka.record-batch.v2");
    expect([wrongType.status, wrongType.body.error?.code]).toEqual([415, "UNSUPPORTED_MEDIA_TYPE"]);
    expect(await marks(t)).toEqual([0]);
  });
});
