/**
 * The idempotent producer (KIP-98, architecture §13, decision 0008) on every backend: InitProducerId,
 * duplicates answered with their original offsets, gaps and stale epochs refused with nothing
 * appended, five requests in flight deduplicated and ordered, and retries after commits whose
 * outcome was unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import type { ProducerIdentity } from "../../src/broker/producer-registry.js";
import { encodeRecordBatch, readBatchHeader } from "../../src/log/record-batch.js";
import type { Backend } from "../../src/storage/ports.js";
import { testBackends } from "../support/backends.js";
import { expectCode, FaultyMeta } from "../support/faults.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

describe.each(testBackends)("idempotent producer on $name", ({ create }) => {
  let backend: Backend;
  let broker: Broker;
  let n = 0;
  const topicName = () => `i${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const values = async (topic: string, partition = 0) =>
    (await broker.fetch({ topic, partition, offset: 0, maxRecords: 1000 })).records.map((r) => text(r.value));

  /** A JSON produce of `values` to partition 0 with base sequence `seq`. */
  const send = (b: Broker, id: ProducerIdentity, topic: string, seq: number, ...vals: string[]) =>
    b.produce({
      topic,
      records: vals.map((v) => ({ partition: 0, value: bytes(v) })),
      producer: { ...id, sequences: [{ partition: 0, baseSequence: seq }] },
    });

  beforeAll(async () => {
    backend = await create();
    broker = new Broker(backend);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("InitProducerId: new producers get new ids at epoch 0; a transactionalId keeps its id and bumps its epoch", async () => {
    const a = await broker.initProducer();
    const b = await broker.initProducer();
    expect(a.producerEpoch).toBe(0);
    expect(b.producerId).not.toBe(a.producerId);
    const named = await broker.initProducer({ transactionalId: "orders-writer" });
    const again = await broker.initProducer({ transactionalId: "orders-writer" });
    expect(again).toEqual({ producerId: named.producerId, producerEpoch: named.producerEpoch + 1 });
    await expectCode(broker.initProducer({ transactionalId: "" }), "INVALID_TRANSACTIONAL_ID");
  });

  it("a duplicate answers the original offsets and appends nothing", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const id = await broker.initProducer();
    expect(await send(broker, id, topic, 0, "a", "b")).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    expect(await send(broker, id, topic, 2, "c")).toEqual([{ partition: 0, offset: 2 }]);
    // The retry of the first request, after its answer was lost.
    expect(await send(broker, id, topic, 0, "a", "b")).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    expect(await values(topic)).toEqual(["a", "b", "c"]);
  });

  it("a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, retriable, and appends nothing", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const id = await broker.initProducer();
    await send(broker, id, topic, 0, "first");
    const e = await expectCode(send(broker, id, topic, 5, "skipped ahead"), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(e.retriable).toBe(true);
    // A new producer must start at 0.
    const fresh = await broker.initProducer();
    await expectCode(send(broker, fresh, topic, 3, "no state"), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await values(topic)).toEqual(["first"]);
  });

  it("re-initialising a transactionalId fences the old instance, even mid-stream; the new one starts at 0", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const name = `writer-${topic}`;
    const old = await broker.initProducer({ transactionalId: name });
    await send(broker, old, topic, 0, "old-0");
    const next = await broker.initProducer({ transactionalId: name });
    await expectCode(send(broker, old, topic, 1, "zombie"), "INVALID_PRODUCER_EPOCH");
    expect(await send(broker, next, topic, 0, "new-0")).toEqual([{ partition: 0, offset: 1 }]);
    // A zombie in another process, whose cache still holds the old epoch, is fenced at its commit.
    const zombie = new Broker(backend, { topicCacheTtlMs: 60_000 });
    expect(await send(zombie, next, topic, 1, "new-1")).toEqual([{ partition: 0, offset: 2 }]);
    const third = await broker.initProducer({ transactionalId: name });
    await expectCode(send(zombie, next, topic, 2, "fenced"), "INVALID_PRODUCER_EPOCH");
    expect(await send(broker, third, topic, 0, "third-0")).toEqual([{ partition: 0, offset: 3 }]);
    expect(await values(topic)).toEqual(["old-0", "new-0", "new-1", "third-0"]);
  });

  it("an unknown producer id is UNKNOWN_PRODUCER_ID; an idempotent record needs a key or a partition", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 2);
    await expectCode(
      send(broker, { producerId: 987654321, producerEpoch: 0 }, topic, 0, "x"),
      "UNKNOWN_PRODUCER_ID",
    );
    const id = await broker.initProducer();
    await expectCode(
      broker.produce({
        topic,
        records: [{ value: bytes("keyless") }],
        producer: { ...id, sequences: [{ partition: 0, baseSequence: 0 }] },
      }),
      "INVALID_REQUEST",
    );
    await expectCode(
      broker.produce({
        topic,
        records: [{ partition: 1, value: bytes("unlisted") }],
        producer: { ...id, sequences: [{ partition: 0, baseSequence: 0 }] },
      }),
      "INVALID_REQUEST",
    );
  });

  it("five requests in flight in one group commit stay ordered, and their retries are all deduplicated", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const id = await broker.initProducer();
    const batch = (i: number) => ({
      topic,
      records: [{ partition: 0, value: bytes(`m${i}`) }],
      producer: { ...id, sequences: [{ partition: 0, baseSequence: i }] },
    });
    const first = await broker.produceMany([0, 1, 2, 3, 4].map(batch));
    expect(first).toEqual([0, 1, 2, 3, 4].map((i) => ({ offsets: [{ partition: 0, offset: i }] })));
    // All five retried (their answers were lost), together with the sixth: only the sixth appends.
    const retried = await broker.produceMany([0, 1, 2, 3, 4, 5].map(batch));
    expect(retried).toEqual([0, 1, 2, 3, 4, 5].map((i) => ({ offsets: [{ partition: 0, offset: i }] })));
    // Reordered in flight: the later request arrives first and waits for its predecessor.
    const [early, late] = await broker.produceMany([batch(7), batch(6)]);
    expect("error" in early && early.error.code).toBe("OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(late).toEqual({ offsets: [{ partition: 0, offset: 6 }] });
    expect(await broker.produceMany([batch(7)])).toEqual([{ offsets: [{ partition: 0, offset: 7 }] }]);
    // Only the last five batches are remembered, as in Kafka: batch 0 is now out of the window.
    await expectCode(broker.produce(batch(0)), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await values(topic)).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
  });

  it("binary batches carry the producer fields in their header; a duplicate answers the original base offset", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const id = await broker.initProducer();
    const encode = (seq: number, ...vals: string[]) =>
      encodeRecordBatch(
        vals.map((v) => ({ key: null, value: bytes(v), headers: [], timestamp: Date.now() })),
        { producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence: seq },
      );
    const a = encode(0, "x", "y");
    expect(await broker.produce({ topic, batches: [{ partition: 0, bytes: a }] })).toEqual([
      { partition: 0, offset: 0 },
    ]);
    expect(await broker.produce({ topic, batches: [{ partition: 0, bytes: encode(2, "z") }] })).toEqual([
      { partition: 0, offset: 2 },
    ]);
    expect(await broker.produce({ topic, batches: [{ partition: 0, bytes: a }] })).toEqual([
      { partition: 0, offset: 0 },
    ]);
    await expectCode(
      broker.produce({ topic, batches: [{ partition: 0, bytes: encode(9, "gap") }] }),
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(await values(topic)).toEqual(["x", "y", "z"]);
    // The stored batches keep the producer's fields, as Kafka's log does.
    const raw = await broker.fetchRaw({ topic, partition: 0, offset: 0 });
    expect(readBatchHeader(raw.bytes, 0).producerId).toBe(id.producerId);
  });

  it("processes that keep sequence states (floe dev) stay exact when a producer's requests alternate between them", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const a = new Broker(backend, { producerStateCacheEntries: 100 });
    const b = new Broker(backend, { producerStateCacheEntries: 100 });
    const id = await a.initProducer();
    expect(await send(a, id, topic, 0, "0")).toEqual([{ partition: 0, offset: 0 }]);
    expect(await send(b, id, topic, 1, "1")).toEqual([{ partition: 0, offset: 1 }]);
    expect(await send(b, id, topic, 2, "2")).toEqual([{ partition: 0, offset: 2 }]);
    // a's cached state ends at sequence 0: the next one it sees looks like a gap until re-read.
    expect(await send(a, id, topic, 3, "3")).toEqual([{ partition: 0, offset: 3 }]);
    // b's cached state ends at 2: sequence 4 looks next to it, and its commit's condition catches the move.
    expect(await send(b, id, topic, 4, "4")).toEqual([{ partition: 0, offset: 4 }]);
    // Retries answered from whichever process's state: the original offsets, nothing appended.
    expect(await send(a, id, topic, 1, "1")).toEqual([{ partition: 0, offset: 1 }]);
    expect(await send(b, id, topic, 3, "3")).toEqual([{ partition: 0, offset: 3 }]);
    await expectCode(send(a, id, topic, 9, "gap"), "OUT_OF_ORDER_SEQUENCE_NUMBER");
    expect(await values(topic)).toEqual(["0", "1", "2", "3", "4"]);
  });

  it("after a commit whose outcome stayed unknown, the retry is appended once whether or not the first landed", async () => {
    const topic = topicName();
    await broker.createTopic(topic, 1);
    const faulty = new FaultyMeta(backend.meta);
    const b = new Broker({ meta: faulty, objects: backend.objects });
    const id = await b.initProducer();
    // The first commit lands but its answer is lost, and settling it fails too.
    faulty.failures.push("after-commit");
    expect(await send(b, id, topic, 0, "once")).toEqual([{ partition: 0, offset: 0 }]);
    // A commit that fails unapplied, with settling failing: the idempotent piece simply goes again.
    faulty.failures.push("storage", "storage");
    expect(await send(b, id, topic, 1, "twice?")).toEqual([{ partition: 0, offset: 1 }]);
    expect(await send(b, id, topic, 1, "twice?")).toEqual([{ partition: 0, offset: 1 }]);
    expect(await values(topic)).toEqual(["once", "twice?"]);
  });
});
