import { createRequire } from "node:module";
import {
  produceV3,
  produceV5,
  produceV7,
  produceV8,
  produceV9,
  produceV10,
  produceV11,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { kafkajsRequest, kafkajsResponse, platformaticParse } from "../../support/independent-codecs.js";
import { CorruptDataError } from "../../../src/errors.js";
import { decodeBatches, readBatchHeaders } from "../../../src/log/record-batch.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { ProduceRequest, ProduceResponse } from "../../../src/kafka/protocol/messages/produce.js";

// Two implementations written independently of ours: KafkaJS for the versions it speaks (3-7),
// @platformatic/kafka for those and the flexible ones Kafka 4 clients use (9-11).
const require = createRequire(import.meta.url);
const Long = require("kafkajs/src/utils/long");
const { Types: KafkaJSCompression } = require("kafkajs/src/protocol/message/compression");

const req = new MessageCodec(ProduceRequest);
const res = new MessageCodec(ProduceResponse);

/** The records of a RecordBatch v2 payload as plain values. */
function recordsOf(bytes: Uint8Array | null) {
  expect(bytes).not.toBeNull();
  return decodeBatches(bytes as Uint8Array).flatMap((b) =>
    b.records.map((r) => ({
      key: r.key === null ? null : Buffer.from(r.key).toString(),
      value: r.value === null ? null : Buffer.from(r.value).toString(),
      headers: r.headers.map((h) => [h.key, h.value === null ? null : Buffer.from(h.value).toString()]),
      timestamp: r.timestamp,
    })),
  );
}

const bigints = (value: unknown) =>
  JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

describe("Produce (0) codecs", () => {
  it("decodes KafkaJS's requests (v3-v7): acks, timeout, topics and the record batch as KafkaJS built it", async () => {
    for (const v of [3, 4, 5, 6, 7]) {
      for (const compression of [KafkaJSCompression.None, KafkaJSCompression.GZIP]) {
        const encoded = await kafkajsRequest(
          "produce",
          v,
        )({
          acks: -1,
          timeout: 30_000,
          compression,
          producerId: Long.fromNumber(42),
          producerEpoch: 3,
          topicData: [
            {
              topic: "orders",
              partitions: [
                {
                  partition: 2,
                  firstSequence: 7,
                  messages: [
                    { key: "k1", value: "v1", headers: { h: "x" }, timestamp: 1_700_000_000_000 },
                    { key: null, value: "v2", timestamp: 1_700_000_000_001 },
                  ],
                },
              ],
            },
            { topic: "audit", partitions: [{ partition: 0, messages: [{ value: "a" }] }] },
          ],
        }).encode();
        const decoded = req.decode(v, encoded.buffer);
        expect(decoded.transactionalId).toBeNull();
        expect(decoded.acks).toBe(-1);
        expect(decoded.timeoutMs).toBe(30_000);
        expect(decoded.topicData.map((t) => t.name)).toEqual(["orders", "audit"]);
        const [p] = decoded.topicData[0].partitionData;
        expect(p.index).toBe(2);
        expect(recordsOf(p.records)).toEqual([
          { key: "k1", value: "v1", headers: [["h", "x"]], timestamp: 1_700_000_000_000 },
          { key: null, value: "v2", headers: [], timestamp: 1_700_000_000_001 },
        ]);
        const [header] = readBatchHeaders(p.records as Uint8Array);
        expect(header).toMatchObject({
          producerId: 42,
          producerEpoch: 3,
          baseSequence: 7,
          isTransactional: false,
          compression: compression === KafkaJSCompression.GZIP ? "gzip" : "none",
        });
      }
    }
  });

  it("decodes a transactional KafkaJS request's transactionalId and transactional batch (v3)", async () => {
    const encoded = await kafkajsRequest(
      "produce",
      3,
    )({
      acks: -1,
      timeout: 1000,
      transactionalId: "tx-1",
      producerId: Long.fromNumber(1),
      producerEpoch: 0,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [{ value: "v" }] }] }],
    }).encode();
    const decoded = req.decode(3, encoded.buffer);
    expect(decoded.transactionalId).toBe("tx-1");
    expect(
      readBatchHeaders(decoded.topicData[0].partitionData[0].records as Uint8Array)[0].isTransactional,
    ).toBe(true);
  });

  it("decodes @platformatic/kafka's requests, flexible ones included (v3-v11)", () => {
    const apis = {
      3: produceV3,
      5: produceV5,
      7: produceV7,
      8: produceV8,
      9: produceV9,
      10: produceV10,
      11: produceV11,
    };
    for (const [version, api] of Object.entries(apis)) {
      const v = Number(version);
      const bytes = api.createRequest(1, 1500, [
        {
          topic: "events",
          partition: 1,
          key: Buffer.from("k"),
          value: Buffer.from("v"),
          headers: new Map([[Buffer.from("h"), Buffer.from("x")]]),
          timestamp: 1_700_000_000_000n,
        },
        { topic: "events", partition: 0, value: Buffer.from("w"), timestamp: 1_700_000_000_002n },
        { topic: "other", partition: 0, value: Buffer.from("o"), timestamp: 1_700_000_000_003n },
      ] as never).buffer;
      const decoded = req.decode(v, bytes);
      expect(decoded.acks).toBe(1);
      expect(decoded.timeoutMs).toBe(1500);
      expect(decoded.transactionalId).toBeNull();
      const events = decoded.topicData.find((t) => t.name === "events");
      const byIndex = new Map(events?.partitionData.map((p) => [p.index, recordsOf(p.records)]));
      expect(byIndex.get(1)).toEqual([
        { key: "k", value: "v", headers: [["h", "x"]], timestamp: 1_700_000_000_000 },
      ]);
      expect(byIndex.get(0)).toEqual([{ key: null, value: "w", headers: [], timestamp: 1_700_000_000_002 }]);
      expect(decoded.topicData.find((t) => t.name === "other")?.partitionData[0].index).toBe(0);
    }
  });

  it("encodes responses KafkaJS reads (v3-v7)", async () => {
    for (const v of [3, 4, 5, 6, 7]) {
      const bytes = res.encode(v, {
        responses: [
          {
            name: "orders",
            partitionResponses: [
              { index: 2, errorCode: 0, baseOffset: 1234, logAppendTimeMs: -1, logStartOffset: 10 },
            ],
          },
        ],
        throttleTimeMs: 0,
      });
      const decoded = await kafkajsResponse("produce", v).decode(Buffer.from(bytes));
      expect(decoded.topics).toEqual([
        {
          topicName: "orders",
          partitions: [
            {
              partition: 2,
              errorCode: 0,
              baseOffset: "1234",
              logAppendTime: "-1",
              ...(v >= 5 ? { logStartOffset: "10" } : {}),
            },
          ],
        },
      ]);
    }
  });

  it("encodes responses @platformatic/kafka reads (v8-v11), per-partition error messages included", () => {
    const apis = { 8: produceV8, 9: produceV9, 10: produceV10, 11: produceV11 };
    for (const [version, api] of Object.entries(apis)) {
      const v = Number(version);
      const bytes = res.encode(v, {
        responses: [
          {
            name: "t",
            partitionResponses: [
              {
                index: 0,
                errorCode: 0,
                baseOffset: 7,
                logAppendTimeMs: 1_700_000_000_000,
                logStartOffset: 0,
              },
              { index: 1, errorCode: 48, errorMessage: "no transactions", baseOffset: -1 },
            ],
          },
        ],
        throttleTimeMs: 0,
      });
      const parsed = bigints(platformaticParse(api, 0, v, bytes));
      const [ok, refused] = parsed.responses[0].partitionResponses;
      expect(parsed.responses[0].name).toBe("t");
      expect(ok).toMatchObject({
        index: 0,
        errorCode: 0,
        baseOffset: 7,
        logAppendTimeMs: 1_700_000_000_000,
        logStartOffset: 0,
        recordErrors: [],
        errorMessage: null,
      });
      expect(refused).toMatchObject({
        index: 1,
        errorCode: 48,
        baseOffset: -1,
        logAppendTimeMs: -1,
        logStartOffset: -1,
        errorMessage: "no transactions",
      });
    }
  });

  it("round-trips every version through its own codec", () => {
    const batch = new Uint8Array([1, 2, 3]);
    for (let v = 3; v <= 11; v++) {
      const request = {
        transactionalId: v % 2 ? null : "tx",
        acks: 1,
        timeoutMs: 5,
        topicData: [{ name: "t", partitionData: [{ index: 4, records: batch }] }],
      };
      expect(req.decode(v, req.encode(v, request))).toEqual(request);
      const response = {
        responses: [
          {
            name: "t",
            partitionResponses: [
              {
                index: 4,
                errorCode: 0,
                baseOffset: 9,
                logAppendTimeMs: -1,
                logStartOffset: v >= 5 ? 3 : -1,
                recordErrors: [],
                errorMessage: null,
                currentLeader: { leaderId: -1, leaderEpoch: -1 },
              },
            ],
          },
        ],
        throttleTimeMs: 0,
        nodeEndpoints: [],
      };
      expect(res.decode(v, res.encode(v, response))).toEqual(response);
    }
  });

  it("refuses versions outside 3-11 and truncated requests", async () => {
    expect(req.supports(2)).toBe(false);
    expect(req.supports(12)).toBe(false);
    const encoded = await kafkajsRequest(
      "produce",
      7,
    )({
      acks: 1,
      timeout: 1,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [{ value: "v" }] }] }],
    }).encode();
    const bytes: Buffer = encoded.buffer;
    expect(() => req.decode(7, bytes.subarray(0, bytes.length - 5))).toThrow(CorruptDataError);
  });
});
