import { listOffsetsV9 } from "@platformatic/kafka";
import kafkajs from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevServer } from "../../../src/server/dev-server.js";
import {
  call,
  createTopic,
  httpProduce,
  kafkajsClient,
  platformaticConnection,
  platformaticResponse,
  startKafkaDevServer,
  uniqueTopic,
} from "./data-path-harness.js";

const { Kafka } = kafkajs;

let server: DevServer;
let kafka: InstanceType<typeof Kafka>;

beforeAll(async () => {
  server = await startKafkaDevServer();
  kafka = kafkajsClient(server);
});

afterAll(async () => {
  await server?.close();
});

const T = 1_700_000_000_000;

describe("ListOffsets over the Kafka protocol", () => {
  it("KafkaJS: earliest and latest per partition, and seeking by timestamp (the end of the log past the last record)", async () => {
    const topic = uniqueTopic("offsets");
    await createTopic(server, topic, 2);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic,
        messages: [0, 1, 2].map((i) => ({ partition: 0, value: `r${i}`, timestamp: String(T + i * 1000) })),
      });
    } finally {
      await producer.disconnect();
    }
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      expect(offsets.sort((a, b) => a.partition - b.partition)).toEqual([
        { partition: 0, offset: "3", high: "3", low: "0" },
        { partition: 1, offset: "0", high: "0", low: "0" },
      ]);
      const at = async (timestamp: number) =>
        (await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)).find((p) => p.partition === 0)?.offset;
      expect(await at(T - 1)).toBe("0");
      expect(await at(T)).toBe("0");
      expect(await at(T + 500)).toBe("1");
      expect(await at(T + 2000)).toBe("2");
      // No record at or after it: Kafka answers -1, which KafkaJS turns into the high-water mark.
      expect(await at(T + 2001)).toBe("3");
    } finally {
      await admin.disconnect();
    }
  });

  it("@platformatic/kafka (v9): earliest, latest, by timestamp, max timestamp, earliest-local and latest-tiered", async () => {
    const topic = uniqueTopic("specs");
    await createTopic(server, topic, 1);
    // Out of timestamp order, so the largest timestamp is not the last record.
    await httpProduce(server, topic, [
      { value: Buffer.from("a"), timestamp: T + 1000 },
      { value: Buffer.from("b"), timestamp: T + 9000 },
      { value: Buffer.from("c"), timestamp: T + 5000 },
    ]);
    const connection = await platformaticConnection(server);
    try {
      const specs = [-2n, -1n, BigInt(T + 2000), -3n, -4n, -5n, BigInt(T + 10_000)];
      const answer = (await platformaticResponse((cb) =>
        listOffsetsV9.api(
          connection,
          -1,
          0,
          [
            {
              name: topic,
              partitions: specs.map((timestamp) => ({
                partitionIndex: 0,
                currentLeaderEpoch: -1,
                timestamp,
              })),
            },
          ],
          cb as never,
        ),
      )) as { topics: { partitions: { errorCode: number; offset: bigint; timestamp: bigint }[] }[] };
      expect(
        answer.topics[0].partitions.map((p) => [p.errorCode, Number(p.offset), Number(p.timestamp)]),
      ).toEqual([
        [0, 0, -1], // earliest
        [0, 3, -1], // latest
        [0, 1, T + 9000], // the first record at or after T + 2000
        [0, 1, T + 9000], // the largest timestamp
        [0, 0, -1], // earliest local: the whole log is Floe's one copy
        [0, -1, -1], // latest tiered: nothing is tiered in KIP-405's sense
        [0, -1, -1], // nothing at or after the timestamp
      ]);
    } finally {
      await call<void>((cb) => connection.close(cb as never));
    }
  });

  it("an unknown partition or topic is UNKNOWN_TOPIC_OR_PARTITION for that partition only", async () => {
    const topic = uniqueTopic("unknown");
    await createTopic(server, topic, 1);
    const connection = await platformaticConnection(server);
    try {
      const answer = (await platformaticResponse((cb) =>
        listOffsetsV9.api(
          connection,
          -1,
          0,
          [
            {
              name: topic,
              partitions: [
                { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n },
                { partitionIndex: 4, currentLeaderEpoch: -1, timestamp: -1n },
              ],
            },
            {
              name: uniqueTopic("nobody"),
              partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }],
            },
          ],
          cb as never,
        ),
      )) as { topics: { partitions: { errorCode: number; offset: bigint }[] }[] };
      expect(answer.topics.map((t) => t.partitions.map((p) => [p.errorCode, Number(p.offset)]))).toEqual([
        [
          [0, 0],
          [3, -1],
        ],
        [[3, -1]],
      ]);
    } finally {
      await call<void>((cb) => connection.close(cb as never));
    }
  });
});
