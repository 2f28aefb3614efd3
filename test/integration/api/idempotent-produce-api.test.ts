import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InitProducerResponse, ProduceResponse } from "../../../src/api/schemas.js";
import { encodeRecordBatch, type LogRecord } from "../../../src/log/record-batch.js";
import { apiStorages, startTestServer, type TestServer, uniqueTopic } from "./harness.js";

/** Issue 10 item 1 over HTTP: InitProducerId, sequenced JSON and binary produce, metadata auto-create. */
const RECORD_BATCH = "application/vnd.kafka.record-batch.v2";

const records = (n: number, prefix: string): LogRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`${prefix}${i}`),
    headers: [],
    timestamp: 1_700_000_000_000 + i,
  }));

describe.each(apiStorages)("idempotent produce API on %s", (storage) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(storage, { autoCreateTopics: true });
  });
  afterAll(async () => {
    await s?.close();
  });

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueTopic("idem");
    expect((await s.call("POST", "/v1/topics", { name, partitions })).status).toBe(201);
    return name;
  }

  async function initProducer(body: unknown = {}) {
    const res = await s.call("POST", "/v1/producers", body);
    expect(res.status).toBe(200);
    return InitProducerResponse.parse(res.body);
  }

  async function values(t: string, partition = 0): Promise<string[]> {
    const res = await s.call(
      "GET",
      `/v1/topics/${t}/partitions/${partition}/records?offset=0&encoding=string`,
    );
    expect(res.status).toBe(200);
    return res.body.records.map((r: { value: string }) => r.value);
  }

  describe("POST /v1/producers", () => {
    it("answers a new id at epoch 0 each time without a transactionalId", async () => {
      const a = await initProducer();
      const b = await initProducer({ transactionalId: null });
      expect(a.producerEpoch).toBe(0);
      expect(b.producerEpoch).toBe(0);
      expect(b.producerId).not.toBe(a.producerId);
    });

    it("keeps a transactionalId's id and bumps its epoch", async () => {
      const name = uniqueTopic("tx");
      const first = await initProducer({ transactionalId: name });
      const second = await initProducer({ transactionalId: name });
      expect(second).toEqual({ producerId: first.producerId, producerEpoch: first.producerEpoch + 1 });
    });

    it("refuses a bad transactionalId, unknown fields and an empty body", async () => {
      for (const body of [{ transactionalId: "" }, { transactionalId: 7 }, { transactionalId: "a\u0001b" }]) {
        const res = await s.call("POST", "/v1/producers", body);
        expect([res.status, res.body.error.code]).toEqual([400, "INVALID_TRANSACTIONAL_ID"]);
      }
      const typo = await s.call("POST", "/v1/producers", { transactionalID: "x" });
      expect([typo.status, typo.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
      const empty = await s.raw("POST", "/v1/producers", "", { "content-type": "application/json" });
      expect([empty.status, empty.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    });
  });

  describe("JSON produce with producer fields", () => {
    it("answers a duplicate with the original offsets and appends nothing", async () => {
      const t = await topic(2);
      const { producerId, producerEpoch } = await initProducer();
      const body = {
        producerId,
        producerEpoch,
        sequences: [
          { partition: 0, baseSequence: 0 },
          { partition: 1, baseSequence: 0 },
        ],
        records: [
          { value: "a", partition: 0 },
          { value: "b", partition: 1 },
          { value: "c", partition: 0 },
        ],
      };
      const first = await s.call("POST", `/v1/topics/${t}/records?encoding=string`, body);
      expect(first.status).toBe(200);
      expect(ProduceResponse.parse(first.body).offsets).toEqual([
        { partition: 0, offset: 0 },
        { partition: 1, offset: 0 },
        { partition: 0, offset: 1 },
      ]);
      const again = await s.call("POST", `/v1/topics/${t}/records?encoding=string`, body);
      expect([again.status, again.body]).toEqual([200, first.body]);
      expect(await values(t, 0)).toEqual(["a", "c"]);
      expect(await values(t, 1)).toEqual(["b"]);

      const next = await s.call("POST", `/v1/topics/${t}/records?encoding=string`, {
        producerId,
        producerEpoch,
        sequences: [{ partition: 0, baseSequence: 2 }],
        records: [{ value: "d", key: "x", partition: 0 }],
      });
      expect(next.body.offsets).toEqual([{ partition: 0, offset: 2 }]);
    });

    it("refuses a gap with 409 OUT_OF_ORDER_SEQUENCE_NUMBER (retriable) and appends nothing", async () => {
      const t = await topic();
      const { producerId, producerEpoch } = await initProducer();
      const send = (baseSequence: number, value: string) =>
        s.call("POST", `/v1/topics/${t}/records?encoding=string`, {
          producerId,
          producerEpoch,
          sequences: [{ partition: 0, baseSequence }],
          records: [{ value, partition: 0 }],
        });
      expect((await send(0, "zero")).status).toBe(200);
      const gap = await send(5, "five");
      expect([gap.status, gap.body.error.code, gap.body.error.retriable]).toEqual([
        409,
        "OUT_OF_ORDER_SEQUENCE_NUMBER",
        true,
      ]);
      expect(await values(t)).toEqual(["zero"]);
    });

    it("fences an older epoch with 409 INVALID_PRODUCER_EPOCH and answers 404 UNKNOWN_PRODUCER_ID for an id never issued", async () => {
      const t = await topic();
      const name = uniqueTopic("tx");
      const old = await initProducer({ transactionalId: name });
      await initProducer({ transactionalId: name });
      const fenced = await s.call("POST", `/v1/topics/${t}/records`, {
        ...old,
        sequences: [{ partition: 0, baseSequence: 0 }],
        records: [{ value: 1, partition: 0 }],
      });
      expect([fenced.status, fenced.body.error.code]).toEqual([409, "INVALID_PRODUCER_EPOCH"]);
      const unknown = await s.call("POST", `/v1/topics/${t}/records`, {
        producerId: 987_654_321,
        producerEpoch: 0,
        sequences: [{ partition: 0, baseSequence: 0 }],
        records: [{ value: 1, partition: 0 }],
      });
      expect([unknown.status, unknown.body.error.code]).toEqual([404, "UNKNOWN_PRODUCER_ID"]);
      expect(await values(t)).toEqual([]);
    });

    it("wants producerId, producerEpoch and sequences together, and a key or partition on every record", async () => {
      const t = await topic();
      const { producerId, producerEpoch } = await initProducer();
      const partial = await s.call("POST", `/v1/topics/${t}/records`, {
        producerId,
        records: [{ value: 1, partition: 0 }],
      });
      expect([partial.status, partial.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
      expect(partial.body.error.message).toMatch(/all three or none/);
      const loose = await s.call("POST", `/v1/topics/${t}/records`, {
        producerId,
        producerEpoch,
        sequences: [{ partition: 0, baseSequence: 0 }],
        records: [{ value: 1 }],
      });
      expect([loose.status, loose.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
      expect(await values(t)).toEqual([]);
    });
  });

  describe("binary produce with producer fields", () => {
    it("answers a duplicate batch with its original baseOffset and appends nothing", async () => {
      const t = await topic();
      const { producerId, producerEpoch } = await initProducer();
      const post = (bytes: Uint8Array) =>
        s.raw("POST", `/v1/topics/${t}/partitions/0/records`, bytes, { "content-type": RECORD_BATCH });
      // Someone else's records first, so the idempotent batch does not start at offset 0.
      expect((await post(encodeRecordBatch(records(2, "plain")))).body).toEqual({ baseOffset: 0, count: 2 });
      const first = encodeRecordBatch(records(3, "a"), { producerId, producerEpoch, baseSequence: 0 });
      const second = encodeRecordBatch(records(2, "b"), { producerId, producerEpoch, baseSequence: 3 });
      expect((await post(first)).body).toEqual({ baseOffset: 2, count: 3 });
      expect((await post(first)).body).toEqual({ baseOffset: 2, count: 3 });
      expect((await post(second)).body).toEqual({ baseOffset: 5, count: 2 });
      expect((await post(first)).body).toEqual({ baseOffset: 2, count: 3 });
      const gap = await post(
        encodeRecordBatch(records(1, "c"), { producerId, producerEpoch, baseSequence: 9 }),
      );
      expect([gap.status, gap.body.error.code]).toEqual([409, "OUT_OF_ORDER_SEQUENCE_NUMBER"]);
      expect(await values(t)).toEqual(["plain0", "plain1", "a0", "a1", "a2", "b0", "b1"]);
    });
  });

  describe("GET /v1/topics/{t}?allowAutoTopicCreation", () => {
    it("creates a missing topic with the default partitions only when asked", async () => {
      const name = uniqueTopic("meta");
      expect((await s.call("GET", `/v1/topics/${name}`)).status).toBe(404);
      expect((await s.call("GET", `/v1/topics/${name}?allowAutoTopicCreation=false`)).status).toBe(404);
      const created = await s.call("GET", `/v1/topics/${name}?allowAutoTopicCreation=true`);
      expect(created.status).toBe(200);
      expect(created.body.name).toBe(name);
      expect(created.body.partitions).toHaveLength(1);
      const again = await s.call("GET", `/v1/topics/${name}?allowAutoTopicCreation=true`);
      expect(again.body.topicId).toBe(created.body.topicId);
      const bad = await s.call("GET", `/v1/topics/${name}?allowAutoTopicCreation=yes`);
      expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_REQUEST"]);
    });
  });
});

describe("metadata without auto-create", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer("memory", { autoCreateTopics: false });
  });
  afterAll(async () => {
    await s?.close();
  });

  it("answers 404 for a missing topic even when the request allows creation", async () => {
    const name = uniqueTopic("meta");
    const res = await s.call("GET", `/v1/topics/${name}?allowAutoTopicCreation=true`);
    expect([res.status, res.body.error.code]).toEqual([404, "UNKNOWN_TOPIC_OR_PARTITION"]);
    expect((await s.call("GET", "/v1/topics")).body.topics).not.toContain(name);
  });
});
