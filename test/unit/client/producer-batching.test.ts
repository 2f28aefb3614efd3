import { describe, expect, it } from "vitest";
import { Floe } from "../../../src/client/floe.js";
import { FloeClientError } from "../../../src/client/client-error.js";
import type { ProducerOptions } from "../../../src/client/producer.js";
import { deferred, FakeFetch, floeError, json, offsetsFor, type SeenRequest } from "./fake-fetch.js";

function floe(fake: FakeFetch) {
  // These tests pin the JSON wire's batching without idempotence (server-side partitioning); the
  // binary and idempotent paths are covered in test/integration/binary and test/integration/client.
  const client = new Floe({
    url: "http://floe.test",
    fetch: fake.fetch,
    retryHooks: { sleep: async () => {} },
    protocol: "json",
  });
  return {
    producer: (options: ProducerOptions = {}) => client.producer({ idempotent: false, ...options }),
  };
}

const records = (r: SeenRequest) =>
  (r.body as { records: { key?: string | null; value: string | null }[] }).records;
const text = (b64: string | null | undefined) => (b64 == null ? b64 : Buffer.from(b64, "base64").toString());

describe("Producer.send", () => {
  it("sends keys, values and headers as base64 bytes and answers offsets in message order", async () => {
    const fake = new FakeFetch().answer(() =>
      json(200, {
        offsets: [
          { partition: 1, offset: 10 },
          { partition: 0, offset: 4 },
          { partition: 1, offset: 11 },
        ],
      }),
    );
    const producer = floe(fake).producer();
    const raw = Buffer.from([0x00, 0xff, 0x80]);
    const answer = await producer.send({
      topic: "orders",
      messages: [
        { key: "k1", value: "héllo", headers: { trace: "abc", bin: raw } },
        { key: raw, value: null, partition: 0 },
        { value: new Uint8Array([1, 2, 3]), timestamp: "1700000000000" },
      ],
    });
    expect(answer).toEqual([
      { topic: "orders", partition: 1, offset: 10 },
      { topic: "orders", partition: 0, offset: 4 },
      { topic: "orders", partition: 1, offset: 11 },
    ]);
    const [request] = fake.requests;
    expect(request.method).toBe("POST");
    expect(request.url.pathname).toBe("/v1/topics/orders/records");
    expect(request.url.searchParams.get("encoding")).toBe("base64");
    expect(request.body).toEqual({
      records: [
        {
          key: Buffer.from("k1").toString("base64"),
          value: Buffer.from("héllo").toString("base64"),
          headers: { trace: Buffer.from("abc").toString("base64"), bin: raw.toString("base64") },
        },
        { key: raw.toString("base64"), value: null, partition: 0 },
        { value: "AQID", timestamp: 1700000000000 },
      ],
    });
  });

  it("refuses what cannot be a record before sending anything", async () => {
    const fake = new FakeFetch();
    const producer = floe(fake).producer();
    await expect(
      producer.send({ topic: "t", messages: [{ value: 42 as unknown as string }] }),
    ).rejects.toThrow(/message 0 value must be a string, Buffer, Uint8Array or null, got number/);
    await expect(producer.send({ topic: "t", messages: [{} as { value: string }] })).rejects.toMatchObject({
      code: "INVALID_RECORD",
    });
    await expect(producer.send({ topic: "", messages: [{ value: "v" }] })).rejects.toMatchObject({
      code: "INVALID_TOPIC_EXCEPTION",
    });
    expect(await producer.send({ topic: "t", messages: [] })).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it("checks that the server acknowledged every record", async () => {
    const fake = new FakeFetch().answer(() => json(200, { offsets: [] }));
    await expect(
      floe(fake)
        .producer()
        .send({ topic: "t", messages: [{ value: "v" }] }),
    ).rejects.toMatchObject({
      code: "UNKNOWN_SERVER_ERROR",
    });
  });
});

describe("Producer batching", () => {
  it("coalesces sends issued together into one request, each caller getting its own offsets", async () => {
    const fake = new FakeFetch().answer((r) => offsetsFor(r, 100));
    const producer = floe(fake).producer();
    const answers = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        producer.send({
          topic: "t",
          messages: i === 2 ? [{ value: "2a" }, { value: "2b" }] : [{ value: String(i) }],
        }),
      ),
    );
    expect(fake.requests).toHaveLength(1);
    expect(records(fake.requests[0]).map((r) => text(r.value))).toEqual(["0", "1", "2a", "2b", "3", "4"]);
    expect(answers.map((a) => a.map((m) => m.offset))).toEqual([[100], [101], [102, 103], [104], [105]]);
  });

  it("batches naturally: sends made while a request is out go together in the next one, in order", async () => {
    const first = deferred<Response>();
    const fake = new FakeFetch().answer(() => first.promise).answer((r) => offsetsFor(r, 1));
    // linger.ms 0 (Kafka's default before 4.0): the first send leaves on the next turn of the loop.
    const producer = floe(fake).producer({ lingerMs: 0 });
    const a = producer.send({ topic: "t", messages: [{ value: "a" }] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.requests).toHaveLength(1);
    const later = ["b", "c", "d"].map((v) => producer.send({ topic: "t", messages: [{ value: v }] }));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.requests).toHaveLength(1); // one in flight per topic keeps order
    first.resolve(json(200, { offsets: [{ partition: 0, offset: 0 }] }));
    expect((await a)[0].offset).toBe(0);
    expect((await Promise.all(later)).map(([m]) => m.offset)).toEqual([1, 2, 3]);
    expect(fake.requests).toHaveLength(2);
    expect(records(fake.requests[1]).map((r) => text(r.value))).toEqual(["b", "c", "d"]);
  });

  it("never grows a request past batchBytes, but never splits one send", async () => {
    const fake = new FakeFetch();
    fake.fallback = (r) => offsetsFor(r);
    const producer = floe(fake).producer({ batchBytes: 300 });
    const big = "x".repeat(600);
    await Promise.all([
      producer.send({ topic: "t", messages: [{ value: "a" }] }),
      producer.send({ topic: "t", messages: [{ value: "b" }] }),
      producer.send({ topic: "t", messages: [{ value: big }, { value: "c" }] }),
      producer.send({ topic: "t", messages: [{ value: "d" }] }),
    ]);
    expect(fake.requests.map((r) => records(r).map((x) => text(x.value)?.slice(0, 1)))).toEqual([
      ["a", "b"],
      ["x", "c"],
      ["d"],
    ]);
  });

  it("keeps topics apart: one request per topic", async () => {
    const fake = new FakeFetch();
    fake.fallback = (r) => offsetsFor(r);
    const producer = floe(fake).producer();
    await producer.sendBatch({
      topicMessages: [
        { topic: "a", messages: [{ value: "1" }] },
        { topic: "b", messages: [{ value: "2" }] },
        { topic: "a", messages: [{ value: "3" }] },
      ],
    });
    const byTopic = fake.requests.map((r) => [r.url.pathname, records(r).length]);
    expect(byTopic).toEqual(
      expect.arrayContaining([
        ["/v1/topics/a/records", 2],
        ["/v1/topics/b/records", 1],
      ]),
    );
    expect(byTopic).toHaveLength(2);
  });

  it("waits up to lingerMs for company, and flush() sends at once", async () => {
    const fake = new FakeFetch();
    fake.fallback = (r) => offsetsFor(r);
    const producer = floe(fake).producer({ lingerMs: 60_000 });
    const a = producer.send({ topic: "t", messages: [{ value: "a" }] });
    const b = producer.send({ topic: "t", messages: [{ value: "b" }] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fake.requests).toHaveLength(0);
    await producer.flush();
    expect(fake.requests).toHaveLength(1);
    expect((await Promise.all([a, b])).flat().map((m) => m.offset)).toEqual([0, 1]);
  });

  it("sends a lingering batch as soon as it reaches batchBytes", async () => {
    const fake = new FakeFetch();
    fake.fallback = (r) => offsetsFor(r);
    const producer = floe(fake).producer({ lingerMs: 60_000, batchBytes: 100 });
    const sent = producer.send({ topic: "t", messages: [{ value: "x".repeat(100) }] });
    expect((await sent)[0].offset).toBe(0);
    expect(fake.requests).toHaveLength(1);
  });

  it("when a shared request is refused for its records, resends each send alone so only the bad one fails", async () => {
    const fake = new FakeFetch().answer(() => floeError(413, "RECORD_TOO_LARGE"));
    fake.fallback = (r) =>
      records(r).some((x) => text(x.value) === "bad") ? floeError(413, "RECORD_TOO_LARGE") : offsetsFor(r, 7);
    const producer = floe(fake).producer();
    const [good1, bad, good2] = await Promise.allSettled(
      ["ok1", "bad", "ok2"].map((v) => producer.send({ topic: "t", messages: [{ value: v }] })),
    );
    expect(good1).toMatchObject({ status: "fulfilled", value: [{ offset: 7 }] });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "RECORD_TOO_LARGE", status: 413 } });
    expect(good2).toMatchObject({ status: "fulfilled", value: [{ offset: 7 }] });
    expect(fake.requests.map((r) => records(r).map((x) => text(x.value)))).toEqual([
      ["ok1", "bad", "ok2"],
      ["ok1"],
      ["bad"],
      ["ok2"],
    ]);
  });

  it("fails every send in a request refused for the topic, without resending", async () => {
    const fake = new FakeFetch().answer(() => floeError(404, "UNKNOWN_TOPIC_OR_PARTITION"));
    const producer = floe(fake).producer();
    const outcomes = await Promise.allSettled(
      ["a", "b"].map((v) => producer.send({ topic: "t", messages: [{ value: v }] })),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect((outcomes[0] as PromiseRejectedResult).reason).toBeInstanceOf(FloeClientError);
    expect(fake.requests).toHaveLength(1);
  });

  it("delivers what was sent on disconnect and refuses sends afterwards", async () => {
    const fake = new FakeFetch();
    fake.fallback = (r) => offsetsFor(r);
    const producer = floe(fake).producer({ lingerMs: 60_000 });
    const pending = producer.send({ topic: "t", messages: [{ value: "a" }] });
    await producer.disconnect();
    expect((await pending)[0].offset).toBe(0);
    await expect(producer.send({ topic: "t", messages: [{ value: "b" }] })).rejects.toThrow(/disconnected/);
  });
});
