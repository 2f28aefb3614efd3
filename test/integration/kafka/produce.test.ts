import { createRequire } from "node:module";
import { Producer, produceV3, produceV11 } from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBatches, readBatchHeaders } from "../../../src/log/record-batch.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { ProduceRequest, ProduceResponse } from "../../../src/kafka/protocol/messages/produce.js";
import type { DevServer } from "../../../src/server/dev-server.js";
import {
  b64,
  call,
  createTopic,
  httpBatches,
  httpRecords,
  kafkajsClient,
  platformaticConnection,
  platformaticResponse,
  RawKafka,
  startKafkaDevServer,
  uniqueTopic,
} from "./data-path-harness.js";

const { CompressionTypes, Kafka } = kafkajs;
const require = createRequire(import.meta.url);
const produceCodecs = {
  request: new MessageCodec(ProduceRequest),
  response: new MessageCodec(ProduceResponse),
};

let server: DevServer;
let kafka: InstanceType<typeof Kafka>;

beforeAll(async () => {
  server = await startKafkaDevServer();
  kafka = kafkajsClient(server);
});

afterAll(async () => {
  await server?.close();
});

/** Bytes that are not text: what must survive every path unchanged. */
const binary = (n: number) => Buffer.from([0, 255, 128, n, 10, 13, 0xfe]);

/** Produce answers per partition, as @platformatic/kafka's parser names them. */
interface PartitionAnswer {
  index: number;
  errorCode: number;
  baseOffset: bigint;
  logAppendTimeMs: bigint;
  logStartOffset: bigint;
  errorMessage: string | null;
}
const partitionsOf = (r: { responses: { partitionResponses: PartitionAnswer[] }[] }) =>
  r.responses.flatMap((t) => t.partitionResponses);

describe("Produce over the Kafka protocol", () => {
  it("KafkaJS with acks -1 and 1, plain and gzip: keyed and unkeyed records with headers come back over HTTP byte for byte, at the offsets the producer was told", async () => {
    const topic = uniqueTopic("produce");
    await createTopic(server, topic, 3);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const sent: {
        partition: number;
        offset: number;
        key: Buffer | null;
        value: Buffer;
        headers: Record<string, Buffer>;
      }[] = [];
      let n = 0;
      for (const acks of [-1, 1]) {
        for (const compression of [CompressionTypes.None, CompressionTypes.GZIP]) {
          const messages = [0, 1, 2].map((partition) => ({
            partition,
            key: partition === 1 ? null : binary(n++),
            value: Buffer.concat([binary(n++), Buffer.from(` acks=${acks} codec=${compression}`)]),
            headers: { trace: binary(n++), empty: Buffer.alloc(0) },
          }));
          const answers = await producer.send({ topic, acks, compression, messages });
          expect(answers).toHaveLength(3);
          for (const m of messages) {
            const answer = answers.find((a) => a.partition === m.partition);
            expect(answer?.errorCode).toBe(0);
            sent.push({ ...m, offset: Number(answer?.baseOffset) });
          }
        }
      }
      for (const partition of [0, 1, 2]) {
        const mine = sent.filter((s) => s.partition === partition);
        expect(mine.map((s) => s.offset)).toEqual([0, 1, 2, 3]);
        const stored = await httpRecords(server, topic, partition);
        expect(
          stored.map((r) => ({ offset: r.offset, key: r.key, value: r.value, headers: r.headers })),
        ).toEqual(
          mine.map((s) => ({
            offset: s.offset,
            key: s.key === null ? null : b64(s.key),
            value: b64(s.value),
            headers: { trace: b64(s.headers.trace), empty: "" },
          })),
        );
      }
    } finally {
      await producer.disconnect();
    }
  });

  it("acks 0: nothing is answered, and the records are still appended", async () => {
    const topic = uniqueTopic("acks0");
    await createTopic(server, topic, 1);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < 3; i++) {
        const answers = await producer.send({
          topic,
          acks: 0,
          messages: [{ value: `fire-and-forget ${i}` }],
        });
        // KafkaJS expects no response with acks 0 and answers nothing itself.
        expect(answers).toEqual([]);
      }
      // A request after them on the same connection is answered after they were handed to the commit.
      await producer.send({ topic, acks: -1, messages: [{ value: "acknowledged" }] });
    } finally {
      await producer.disconnect();
    }
    // On the wire: the next answer on the connection is the next acks -1 request's, not the acks 0 one's.
    const raw = await RawKafka.open(server);
    try {
      const record = async (value: string) => {
        const encoded = await require("kafkajs/src/protocol/requests/produce/v7/request.js")({
          acks: 0,
          timeout: 30_000,
          topicData: [{ topic, partitions: [{ partition: 0, messages: [{ value }] }] }],
        }).encode();
        return produceCodecs.request.decode(7, encoded.buffer);
      };
      raw.send(produceCodecs, 7, await record("raw acks 0"));
      const answered = await raw.request(produceCodecs, 7, { ...(await record("raw acks -1")), acks: -1 });
      expect(answered.responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 5 });
    } finally {
      raw.close();
    }
    const stored = await httpRecords(server, topic, 0);
    expect(stored.map((r) => Buffer.from(r.value as string, "base64").toString())).toEqual([
      "fire-and-forget 0",
      "fire-and-forget 1",
      "fire-and-forget 2",
      "acknowledged",
      "raw acks 0",
      "raw acks -1",
    ]);
  });

  it("an idempotent KafkaJS producer gets its id from InitProducerId; its batches are stored with it and its sequences", async () => {
    const topic = uniqueTopic("idempotent");
    await createTopic(server, topic, 2);
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { retries: 3 },
    });
    await producer.connect();
    try {
      for (let i = 0; i < 3; i++) {
        await producer.send({
          topic,
          compression: i === 1 ? CompressionTypes.GZIP : CompressionTypes.None,
          messages: [
            { partition: 0, key: `k${i}`, value: `a${i}` },
            { partition: 0, key: `k${i}`, value: `b${i}` },
            { partition: 1, key: `k${i}`, value: `c${i}` },
          ],
        });
      }
      const headers = readBatchHeaders(await httpBatches(server, topic, 0));
      expect(headers).toHaveLength(3);
      expect(new Set(headers.map((h) => h.producerId)).size).toBe(1);
      expect(headers[0].producerId).toBeGreaterThanOrEqual(0);
      expect(headers.map((h) => [h.baseOffset, h.baseSequence, h.recordCount])).toEqual([
        [0, 0, 2],
        [2, 2, 2],
        [4, 4, 2],
      ]);
      const values = (await httpRecords(server, topic, 0)).map((r) =>
        Buffer.from(r.value as string, "base64").toString(),
      );
      expect(values).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
      expect(readBatchHeaders(await httpBatches(server, topic, 1)).map((h) => h.baseSequence)).toEqual([
        0, 1, 2,
      ]);
    } finally {
      await producer.disconnect();
    }
  });

  it("stores the batch KafkaJS encoded exactly as sent: HTTP's binary fetch answers the same bytes, base offset patched", async () => {
    const topic = uniqueTopic("bytes");
    await createTopic(server, topic, 1);
    // Twice: a first batch so the second lands at a base offset other than the 0 the client wrote.
    const batches: Uint8Array[] = [];
    const raw = await RawKafka.open(server);
    try {
      for (const round of [0, 1]) {
        const encoded = await require("kafkajs/src/protocol/requests/produce/v7/request.js")({
          acks: -1,
          timeout: 30_000,
          compression: round === 1 ? CompressionTypes.GZIP : CompressionTypes.None,
          topicData: [
            {
              topic,
              partitions: [
                {
                  partition: 0,
                  messages: [
                    {
                      key: binary(round),
                      value: binary(10 + round),
                      headers: { h: binary(20) },
                      timestamp: 1_700_000_000_000 + round,
                    },
                    { key: null, value: Buffer.from("second"), timestamp: 1_700_000_000_010 },
                  ],
                },
              ],
            },
          ],
        }).encode();
        const request = produceCodecs.request.decode(7, encoded.buffer);
        batches.push(request.topicData[0].partitionData[0].records as Uint8Array);
        const response = await raw.request(produceCodecs, 7, request);
        expect(response.responses[0].partitionResponses[0]).toMatchObject({
          errorCode: 0,
          baseOffset: round * 2,
        });
      }
    } finally {
      raw.close();
    }
    const stored = await httpBatches(server, topic, 0);
    const expected = Buffer.concat(batches.map((b) => Buffer.from(b)));
    // The stored second batch carries its real base offset (2) where the client wrote 0.
    expected.writeBigInt64BE(2n, batches[0].length);
    expect(stored.equals(expected)).toBe(true);
  });

  it("pipelined requests on one connection commit in the order they were sent", async () => {
    const topic = uniqueTopic("pipelined");
    await createTopic(server, topic, 1);
    const raw = await RawKafka.open(server);
    try {
      // Sent back to back without waiting; each request is one record carrying its position.
      const answers = await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const encoded = await require("kafkajs/src/protocol/requests/produce/v7/request.js")({
            acks: -1,
            timeout: 30_000,
            topicData: [{ topic, partitions: [{ partition: 0, messages: [{ value: `request ${i}` }] }] }],
          }).encode();
          return raw.request(produceCodecs, 7, produceCodecs.request.decode(7, encoded.buffer));
        }),
      );
      expect(answers.map((a) => a.responses[0].partitionResponses[0].baseOffset)).toEqual(
        Array.from({ length: 30 }, (_, i) => i),
      );
      const values = (await httpRecords(server, topic, 0)).map((r) =>
        Buffer.from(r.value as string, "base64").toString(),
      );
      expect(values).toEqual(Array.from({ length: 30 }, (_, i) => `request ${i}`));
    } finally {
      raw.close();
    }
  });

  it("answers each partition on its own: a corrupt batch for one does not refuse the others", async () => {
    const topic = uniqueTopic("mixed");
    await createTopic(server, topic, 2);
    const encoded = await require("kafkajs/src/protocol/requests/produce/v7/request.js")({
      acks: -1,
      timeout: 30_000,
      topicData: [
        {
          topic,
          partitions: [
            { partition: 0, messages: [{ value: "good" }] },
            { partition: 1, messages: [{ value: "flipped" }] },
          ],
        },
      ],
    }).encode();
    const request = produceCodecs.request.decode(7, encoded.buffer);
    const corrupt = Buffer.from(request.topicData[0].partitionData[1].records as Uint8Array);
    corrupt[corrupt.length - 1] ^= 0xff; // breaks the CRC
    request.topicData[0].partitionData[1].records = corrupt;
    const raw = await RawKafka.open(server);
    try {
      const response = await raw.request(produceCodecs, 7, request);
      const [good, bad] = response.responses[0].partitionResponses;
      expect(good).toMatchObject({ index: 0, errorCode: 0, baseOffset: 0 });
      expect(bad).toMatchObject({ index: 1, errorCode: 2 /* CORRUPT_MESSAGE */, baseOffset: -1 });
    } finally {
      raw.close();
    }
    expect(await httpRecords(server, topic, 1)).toEqual([]);
    expect(await httpRecords(server, topic, 0)).toHaveLength(1);
  });

  it("an oversized batch is MESSAGE_TOO_LARGE and nothing is appended", async () => {
    const topic = uniqueTopic("large");
    await createTopic(server, topic, 1, { "max.message.bytes": 1024 });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const error = await producer.send({ topic, messages: [{ value: Buffer.alloc(4096, 1) }] }).then(
        () => undefined,
        (e: { type?: string; cause?: { type?: string } }) => e.type ?? e.cause?.type,
      );
      expect(error).toBe("MESSAGE_TOO_LARGE");
    } finally {
      await producer.disconnect();
    }
    expect(await httpRecords(server, topic, 0)).toEqual([]);
  });

  it("@platformatic/kafka (v11): a transactional produce is INVALID_TXN_STATE, invalid acks INVALID_REQUIRED_ACKS, an unknown partition UNKNOWN_TOPIC_OR_PARTITION", async () => {
    const topic = uniqueTopic("refused");
    await createTopic(server, topic, 1);
    const connection = await platformaticConnection(server);
    try {
      const message = { topic, partition: 0, value: Buffer.from("v") };
      const transactional = await platformaticResponse((cb) =>
        produceV11.api(connection, -1, 5000, [{ ...message }], { transactionalId: "tx-1" }, cb as never),
      );
      const [txAnswer] = partitionsOf(transactional as never);
      expect(txAnswer.errorCode).toBe(48);
      expect(txAnswer.errorMessage).toMatch(/no transactions/);

      const badAcks = await platformaticResponse((cb) =>
        produceV11.api(connection, 2, 5000, [{ ...message }], {}, cb as never),
      );
      expect(partitionsOf(badAcks as never)[0].errorCode).toBe(21);

      const unknown = await platformaticResponse((cb) =>
        produceV11.api(connection, -1, 5000, [{ ...message, partition: 7 }], {}, cb as never),
      );
      expect(partitionsOf(unknown as never)[0].errorCode).toBe(3);
    } finally {
      await call<void>((cb) => connection.close(cb as never));
    }
    expect(await httpRecords(server, topic, 0)).toEqual([]);
  });

  it("a LogAppendTime topic answers the time the broker stamped, as stored", async () => {
    const topic = uniqueTopic("appendtime");
    await createTopic(server, topic, 1, { "message.timestamp.type": "LogAppendTime" });
    const connection = await platformaticConnection(server);
    try {
      const response = await platformaticResponse((cb) =>
        produceV3.api(
          connection,
          -1,
          5000,
          [{ topic, partition: 0, value: Buffer.from("v"), timestamp: 1000n }],
          {},
          cb as never,
        ),
      );
      const [answer] = partitionsOf(response as never);
      expect(answer.errorCode).toBe(0);
      const [stored] = await httpRecords(server, topic, 0);
      expect(stored.timestamp).not.toBe(1000);
      expect(Number(answer.logAppendTimeMs)).toBe(stored.timestamp);
      const created = await platformaticResponse((cb) =>
        produceV11.api(
          connection,
          -1,
          5000,
          [{ topic, partition: 0, value: Buffer.from("w") }],
          {},
          cb as never,
        ),
      );
      expect(partitionsOf(created as never)[0].logStartOffset).toBe(0n);
    } finally {
      await call<void>((cb) => connection.close(cb as never));
    }
  });

  it("@platformatic/kafka's idempotent producer (Produce v11, InitProducerId v5): keyed records with headers, stored once with its id", async () => {
    const topic = uniqueTopic("platformatic");
    await createTopic(server, topic, 2);
    const producer = new Producer({
      clientId: "floe-test",
      bootstrapBrokers: [server.kafka?.bootstrap as string],
      idempotent: true,
      retries: 0,
    });
    try {
      for (let i = 0; i < 2; i++) {
        await call((cb) =>
          producer.send(
            {
              messages: [
                {
                  topic,
                  partition: 1,
                  key: binary(i),
                  value: binary(100 + i),
                  headers: new Map([[Buffer.from("h"), binary(200 + i)]]),
                },
              ],
            },
            cb as never,
          ),
        );
      }
    } finally {
      await call<void>((cb) => producer.close(cb as never));
    }
    const stored = await httpRecords(server, topic, 1);
    expect(stored.map((r) => [r.offset, r.key, r.value, r.headers])).toEqual([
      [0, b64(binary(0)), b64(binary(100)), { h: b64(binary(200)) }],
      [1, b64(binary(1)), b64(binary(101)), { h: b64(binary(201)) }],
    ]);
    const headers = readBatchHeaders(await httpBatches(server, topic, 1));
    expect(headers.map((h) => h.baseSequence)).toEqual([0, 1]);
    expect(headers[0].producerId).toBeGreaterThanOrEqual(0);
    expect(decodeBatches(await httpBatches(server, topic, 1))).toHaveLength(2);
  });
});

describe("Produce with auto-create off", () => {
  let strict: DevServer;
  beforeAll(async () => {
    strict = await startKafkaDevServer({ autoCreateTopics: false });
  });
  afterAll(async () => {
    await strict?.close();
  });

  it("an unknown topic is UNKNOWN_TOPIC_OR_PARTITION and is not created; with auto-create on it is", async () => {
    const topic = uniqueTopic("missing");
    for (const [s, expected] of [
      [strict, 3],
      [server, 0],
    ] as const) {
      const connection = await platformaticConnection(s);
      try {
        const response = await platformaticResponse((cb) =>
          produceV11.api(
            connection,
            -1,
            5000,
            [{ topic, partition: 0, value: Buffer.from("v") }],
            {},
            cb as never,
          ),
        );
        expect(partitionsOf(response as never)[0].errorCode).toBe(expected);
      } finally {
        await call<void>((cb) => connection.close(cb as never));
      }
      const described = await fetch(`${s.url}/v1/topics/${topic}`);
      expect(described.status).toBe(expected === 0 ? 200 : 404);
    }
  });
});
