import { fetchV16, Producer } from "@platformatic/kafka";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBatchHeaders } from "../../../src/log/record-batch.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { FetchRequest, FetchResponse } from "../../../src/kafka/protocol/messages/fetch.js";
import type { MessageInput, MessageValue } from "../../../src/kafka/protocol/spec.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import {
  call,
  createTopic,
  httpBatches,
  httpProduce,
  type KafkaJSBroker,
  kafkajsBroker,
  platformaticConnection,
  platformaticResponse,
  RawKafka,
  startKafkaDevServer,
  uniqueTopic,
} from "./data-path-harness.js";

const fetchCodecs = { request: new MessageCodec(FetchRequest), response: new MessageCodec(FetchResponse) };
type FetchAnswer = MessageValue<typeof FetchResponse>;

let server: DevServer;
let kafkajs: KafkaJSBroker;
let raw: RawKafka;

beforeAll(async () => {
  server = await startKafkaDevServer();
  kafkajs = await kafkajsBroker(server);
  raw = await RawKafka.open(server);
});

afterAll(async () => {
  raw?.close();
  await kafkajs?.disconnect();
  await server?.close();
});

const binary = (n: number) => Buffer.from([0, 255, 128, n, 10, 13, 0xfe]);
const MiB = 1024 * 1024;

/** A Fetch by name (v11, the newest non-flexible) over our own codecs, for exact bytes. */
function rawFetch(
  partitions: { topic: string; partition: number; offset: number; maxBytes?: number }[],
  options: Partial<MessageInput<typeof FetchRequest>> = {},
  version = 11,
): Promise<FetchAnswer> {
  const topics = [...new Set(partitions.map((p) => p.topic))].map((topic) => ({
    topic,
    partitions: partitions
      .filter((p) => p.topic === topic)
      .map((p) => ({ partition: p.partition, fetchOffset: p.offset, partitionMaxBytes: p.maxBytes ?? MiB })),
  }));
  return raw.request(fetchCodecs, version, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 50 * MiB,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics,
    ...options,
  });
}

/** Record-sized payloads produced one request per batch, so a partition holds `batches` batches. */
async function fill(topic: string, partitions: number, batches: number, bytes = 1000): Promise<void> {
  for (let b = 0; b < batches; b++) {
    await httpProduce(
      server,
      topic,
      Array.from({ length: partitions }, (_, partition) => ({ partition, value: Buffer.alloc(bytes, b) })),
    );
  }
}

describe("Fetch over the Kafka protocol", () => {
  it("records produced over HTTP are what KafkaJS fetches: offsets, keys, values, headers, timestamps", async () => {
    const topic = uniqueTopic("fetch");
    await createTopic(server, topic, 2);
    const produced = await httpProduce(server, topic, [
      {
        partition: 0,
        key: binary(1),
        value: binary(2),
        headers: { h: binary(3) },
        timestamp: 1_700_000_000_000,
      },
      { partition: 0, key: null, value: binary(4), timestamp: 1_700_000_000_001 },
      { partition: 1, key: binary(5), value: null, timestamp: 1_700_000_000_002 },
    ]);
    expect(produced).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
      { partition: 1, offset: 0 },
    ]);
    const answer = await kafkajs.fetch({
      maxWaitTime: 0,
      topics: [
        {
          topic,
          partitions: [
            { partition: 0, fetchOffset: "0", maxBytes: MiB },
            { partition: 1, fetchOffset: "0", maxBytes: MiB },
          ],
        },
      ],
    });
    const partitions = answer.responses
      .flatMap((t) => t.partitions)
      .sort((a, b) => a.partition - b.partition);
    const view = (p: (typeof partitions)[number]) =>
      p.messages.map((m) => ({
        offset: m.offset,
        timestamp: m.timestamp,
        key: m.key && Buffer.from(m.key).toString("hex"),
        value: m.value && Buffer.from(m.value).toString("hex"),
        headers: Object.fromEntries(
          Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v).toString("hex")]),
        ),
      }));
    expect(
      partitions.map((p) => [
        p.partition,
        p.errorCode,
        p.highWatermark,
        p.lastStableOffset,
        p.lastStartOffset,
      ]),
    ).toEqual([
      [0, 0, "2", "2", "0"],
      [1, 0, "1", "1", "0"],
    ]);
    expect(view(partitions[0])).toEqual([
      {
        offset: "0",
        timestamp: "1700000000000",
        key: binary(1).toString("hex"),
        value: binary(2).toString("hex"),
        headers: { h: binary(3).toString("hex") },
      },
      { offset: "1", timestamp: "1700000000001", key: null, value: binary(4).toString("hex"), headers: {} },
    ]);
    expect(view(partitions[1])).toEqual([
      { offset: "0", timestamp: "1700000000002", key: binary(5).toString("hex"), value: null, headers: {} },
    ]);
  });

  it("answers the stored batches byte for byte, as HTTP's binary fetch does, from the batch holding the offset", async () => {
    const topic = uniqueTopic("bytes");
    await createTopic(server, topic, 1);
    await httpProduce(server, topic, [{ value: binary(1) }, { value: binary(2) }]);
    await httpProduce(server, topic, [{ key: binary(3), value: binary(4), headers: { a: binary(5) } }]);
    for (const offset of [0, 1, 2]) {
      const answer = await rawFetch([{ topic, partition: 0, offset }]);
      const [p] = answer.responses[0].partitions;
      expect(p).toMatchObject({
        errorCode: 0,
        highWatermark: 3,
        lastStableOffset: 3,
        logStartOffset: 0,
        preferredReadReplica: -1,
      });
      expect(p.abortedTransactions).toBeNull();
      const stored = await httpBatches(server, topic, 0, offset);
      expect(Buffer.from(p.records as Uint8Array).equals(stored)).toBe(true);
      // The batch holding offset 1 starts at 0, as Kafka answers; clients skip what they did not ask for.
      expect(readBatchHeaders(p.records as Uint8Array)[0].baseOffset).toBe(offset < 2 ? 0 : 2);
    }
    // read_committed gets an empty aborted-transactions list, as Kafka sends it.
    const committed = await rawFetch([{ topic, partition: 0, offset: 0 }], { isolationLevel: 1 });
    expect(committed.responses[0].partitions[0].abortedTransactions).toEqual([]);
  });

  it("keeps the answer within max.bytes at whole batches; only the first batch may exceed it (KIP-74)", async () => {
    const topic = uniqueTopic("maxbytes");
    await createTopic(server, topic, 3);
    await fill(topic, 3, 4);
    const [batch] = readBatchHeaders(await httpBatches(server, topic, 0));
    const all = [0, 1, 2].map((partition) => ({ topic, partition, offset: 0 }));
    const sizes = (a: FetchAnswer) => a.responses[0].partitions.map((p) => (p.records as Uint8Array).length);

    const everything = await rawFetch(all);
    expect(sizes(everything)).toEqual([4 * batch.size, 4 * batch.size, 4 * batch.size]);

    // Room for five batches: four from the first partition, one from the second, none from the third.
    const limited = await rawFetch(all, { maxBytes: 5 * batch.size + 10 });
    expect(sizes(limited)).toEqual([4 * batch.size, batch.size, 0]);
    // The partitions left empty still carry their marks.
    expect(limited.responses[0].partitions.map((p) => p.highWatermark)).toEqual([4, 4, 4]);

    // Too small for any batch: the first batch of the first partition goes out whole.
    const tiny = await rawFetch(all, { maxBytes: 10 });
    expect(sizes(tiny)).toEqual([batch.size, 0, 0]);

    // Per partition: two batches each fit in partitionMaxBytes; a partition limit smaller than a
    // batch still answers one batch for the first partition only.
    const perPartition = await rawFetch(all.map((p) => ({ ...p, maxBytes: 2 * batch.size + 5 })));
    expect(sizes(perPartition)).toEqual([2 * batch.size, 2 * batch.size, 2 * batch.size]);
    const smallPartitions = await rawFetch(all.map((p) => ({ ...p, maxBytes: 5 })));
    expect(sizes(smallPartitions)).toEqual([batch.size, 0, 0]);

    // KafkaJS reads a limited answer: its record counts follow the same limits.
    const viaKafkaJS = await kafkajs.fetch({
      maxWaitTime: 0,
      maxBytes: 5 * batch.size + 10,
      topics: [{ topic, partitions: [{ partition: 2, fetchOffset: "0", maxBytes: MiB }] }],
    });
    expect(viaKafkaJS.responses[0].partitions[0].messages).toHaveLength(4);
  });

  it("an offset past the high-water mark is OFFSET_OUT_OF_RANGE for that partition only, and answered at once", async () => {
    const topic = uniqueTopic("range");
    await createTopic(server, topic, 2);
    await fill(topic, 2, 1);
    const answer = await rawFetch(
      [
        { topic, partition: 0, offset: 5 },
        { topic, partition: 1, offset: 0 },
        { topic, partition: 9, offset: 0 },
      ],
      { maxWaitMs: 20_000, minBytes: 10 * MiB },
    );
    const [outOfRange, ok, unknown] = answer.responses[0].partitions;
    expect(outOfRange).toMatchObject({ partitionIndex: 0, errorCode: 1, highWatermark: -1 });
    expect(ok).toMatchObject({ partitionIndex: 1, errorCode: 0, highWatermark: 1 });
    expect((ok.records as Uint8Array).length).toBeGreaterThan(0);
    expect(unknown).toMatchObject({ partitionIndex: 9, errorCode: 3 });
    const error = await kafkajs
      .fetch({
        maxWaitTime: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: "5", maxBytes: MiB }] }],
      })
      .then(
        () => undefined,
        (e: { type?: string }) => e.type,
      );
    expect(error).toBe("OFFSET_OUT_OF_RANGE");
  });

  it("long-polls at the high-water mark until an append to any of the partitions wakes it", async () => {
    const topic = uniqueTopic("longpoll");
    await createTopic(server, topic, 3);
    const maxWaitMs = 20_000;
    let answeredWith: "records" | "timer" | undefined;
    const waiting = kafkajs
      .fetch({
        maxWaitTime: maxWaitMs,
        topics: [
          {
            topic,
            partitions: [0, 1, 2].map((partition) => ({ partition, fetchOffset: "0", maxBytes: MiB })),
          },
        ],
      })
      .then((answer) => {
        answeredWith ??= "records";
        return answer;
      });
    // The wait is under way: an empty partition is answered empty only when max.wait.ms has passed.
    const early = await Promise.race([
      waiting.then(() => "answered"),
      new Promise((r) => setTimeout(r, 300, "waiting")),
    ]);
    expect(early).toBe("waiting");
    await httpProduce(server, topic, [{ partition: 2, value: Buffer.from("wake up") }]);
    // Woken by the append, not by max.wait.ms: half of it is a generous margin.
    const timer = setTimeout(() => {
      answeredWith ??= "timer";
    }, maxWaitMs / 2);
    const answer = await waiting;
    clearTimeout(timer);
    expect(answeredWith).toBe("records");
    const woken = answer.responses[0].partitions.find((p) => p.partition === 2);
    expect(woken?.messages.map((m) => m.value?.toString())).toEqual(["wake up"]);
  });

  it("waits for min.bytes: appends below it do not end the wait, max.wait.ms does, with what arrived", async () => {
    const topic = uniqueTopic("minbytes");
    await createTopic(server, topic, 1);
    const waiting = rawFetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 1500, minBytes: 1 * MiB });
    await httpProduce(server, topic, [{ value: Buffer.from("one") }]);
    await httpProduce(server, topic, [{ value: Buffer.from("two") }]);
    const answer = await waiting;
    const [p] = answer.responses[0].partitions;
    expect(p.errorCode).toBe(0);
    expect(readBatchHeaders(p.records as Uint8Array)).toHaveLength(2);
  });

  it("keeps no fetch sessions: full answers with session id 0, and an incremental fetch is FETCH_SESSION_ID_NOT_FOUND", async () => {
    const topic = uniqueTopic("session");
    await createTopic(server, topic, 1);
    await fill(topic, 1, 1);
    // A client asking to open a session (id 0, epoch 0) gets a full answer and no session.
    const opened = await rawFetch([{ topic, partition: 0, offset: 0 }], { sessionId: 0, sessionEpoch: 0 });
    expect(opened.sessionId).toBe(0);
    expect(opened.errorCode).toBe(0);
    expect((opened.responses[0].partitions[0].records as Uint8Array).length).toBeGreaterThan(0);
    const incremental = await rawFetch([], { sessionId: 7, sessionEpoch: 1 });
    expect(incremental).toMatchObject({ errorCode: 70, sessionId: 0, responses: [] });
  });

  it("@platformatic/kafka: its producer's records fetched by topic id (v16); an unknown id is UNKNOWN_TOPIC_ID", async () => {
    const topic = uniqueTopic("byid");
    const topicId = await createTopic(server, topic, 1);
    const producer = new Producer({
      clientId: "floe-test",
      bootstrapBrokers: [server.kafka?.bootstrap as string],
      retries: 0,
    });
    try {
      await call((cb) =>
        producer.send(
          {
            messages: [
              {
                topic,
                partition: 0,
                key: binary(1),
                value: binary(2),
                headers: new Map([[Buffer.from("h"), binary(3)]]),
              },
            ],
          },
          cb as never,
        ),
      );
    } finally {
      await call<void>((cb) => producer.close(cb as never));
    }
    const connection = await platformaticConnection(server);
    try {
      const partition = (id: string) => ({
        topicId: id,
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: 0,
            fetchOffset: 0n,
            lastFetchedEpoch: -1,
            partitionMaxBytes: MiB,
          },
        ],
      });
      const unknownId = "3e0b9f7c-2d41-4a4f-8a55-0c6f3b2a1d99";
      const answer = (await platformaticResponse((cb) =>
        fetchV16.api(
          connection,
          0,
          1,
          50 * MiB,
          0,
          0,
          0,
          [partition(topicId), partition(unknownId)],
          [],
          "",
          cb as never,
        ),
      )) as {
        sessionId: number;
        responses: {
          topicId: string;
          partitions: {
            errorCode: number;
            highWatermark: bigint;
            records: { records: { key: Buffer; value: Buffer; headers: [Buffer, Buffer][] }[] }[];
          }[];
        }[];
      };
      expect(answer.sessionId).toBe(0);
      const [found, missing] = answer.responses;
      expect(found.topicId).toBe(topicId);
      expect(found.partitions[0].errorCode).toBe(0);
      expect(found.partitions[0].highWatermark).toBe(1n);
      const [record] = found.partitions[0].records.flatMap((b) => b.records);
      expect(
        [record.key, record.value, record.headers[0][1]].map((b) => Buffer.from(b).toString("hex")),
      ).toEqual([binary(1), binary(2), binary(3)].map((b) => b.toString("hex")));
      expect(missing.topicId).toBe(unknownId);
      expect(missing.partitions[0].errorCode).toBe(100);
    } finally {
      await call<void>((cb) => connection.close(cb as never));
    }
  });
});
