import {
  fetchV4,
  fetchV5,
  fetchV7,
  fetchV11,
  fetchV12,
  fetchV13,
  fetchV15,
  fetchV16,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { kafkajsRequest, kafkajsResponse, platformaticParse } from "../../support/independent-codecs.js";
import { encodeRecordBatch, patchBaseOffset } from "../../../src/log/record-batch.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { FetchRequest, FetchResponse } from "../../../src/kafka/protocol/messages/fetch.js";

// Two implementations written independently of ours: KafkaJS for the versions it speaks (4-11),
// @platformatic/kafka for those and the flexible ones, topic ids included (12-16).

const req = new MessageCodec(FetchRequest);
const res = new MessageCodec(FetchResponse);
const TOPIC_ID = "5f1c7a3e-8d2b-4e61-9c0a-7b3d2e1f4a55";
const enc = (s: string) => new TextEncoder().encode(s);

/** Two stored batches as a fetch returns them: base offsets 10 and 12 patched in. */
function storedBatches(): Uint8Array {
  const first = encodeRecordBatch([
    {
      key: enc("k0"),
      value: enc("v0"),
      headers: [{ key: "h", value: enc("x") }],
      timestamp: 1_700_000_000_000,
    },
    { key: null, value: enc("v1"), headers: [], timestamp: 1_700_000_000_001 },
  ]);
  const second = encodeRecordBatch([
    { key: enc("k2"), value: null, headers: [], timestamp: 1_700_000_000_002 },
  ]);
  const bytes = new Uint8Array(first.length + second.length);
  bytes.set(first, 0);
  bytes.set(second, first.length);
  patchBaseOffset(bytes, 0, 10);
  patchBaseOffset(bytes, first.length, 12);
  return bytes;
}

const EXPECTED = [
  { offset: 10, key: "k0", value: "v0", headers: { h: "x" } },
  { offset: 11, key: null, value: "v1", headers: {} },
  { offset: 12, key: "k2", value: null, headers: {} },
];

const text = (b: Buffer | null | undefined) => (b === null || b === undefined ? null : b.toString());

/** A response holding the two batches for partition 3 and an error for partition 4. */
function response(readCommitted: boolean) {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: "orders",
        topicId: TOPIC_ID,
        partitions: [
          {
            partitionIndex: 3,
            errorCode: 0,
            highWatermark: 13,
            lastStableOffset: 13,
            logStartOffset: 2,
            abortedTransactions: readCommitted ? [] : null,
            preferredReadReplica: -1,
            records: storedBatches(),
          },
          {
            partitionIndex: 4,
            errorCode: 1,
            highWatermark: -1,
            lastStableOffset: -1,
            logStartOffset: -1,
            abortedTransactions: null,
            records: new Uint8Array(0),
          },
        ],
      },
    ],
  };
}

describe("Fetch (1) codecs", () => {
  it("decodes KafkaJS's requests (v4-v11): limits, isolation, session and every partition's offset and limit", async () => {
    for (let v = 4; v <= 11; v++) {
      const encoded = await kafkajsRequest(
        "fetch",
        v,
      )({
        replicaId: -1,
        maxWaitTime: 5000,
        minBytes: 1,
        maxBytes: 10_485_760,
        isolationLevel: 1,
        topics: [
          {
            topic: "orders",
            partitions: [
              { partition: 3, fetchOffset: "10", maxBytes: 1_048_576 },
              { partition: 4, fetchOffset: "9007199254740991", maxBytes: 512 },
            ],
          },
        ],
        rackId: "r1",
      }).encode();
      const decoded = req.decode(v, encoded.buffer);
      expect(decoded).toMatchObject({
        replicaId: -1,
        maxWaitMs: 5000,
        minBytes: 1,
        maxBytes: 10_485_760,
        isolationLevel: 1,
        sessionId: 0,
        sessionEpoch: -1,
        forgottenTopicsData: [],
        rackId: v >= 11 ? "r1" : "",
      });
      expect(decoded.topics).toHaveLength(1);
      expect(decoded.topics[0].topic).toBe("orders");
      expect(
        decoded.topics[0].partitions.map((p) => [p.partition, p.fetchOffset, p.partitionMaxBytes]),
      ).toEqual([
        [3, 10, 1_048_576],
        [4, 9007199254740991, 512],
      ]);
    }
  });

  it("decodes @platformatic/kafka's requests, by topic name (v4-v12) and by topic id (v13-v16)", () => {
    const apis = {
      4: fetchV4,
      5: fetchV5,
      7: fetchV7,
      11: fetchV11,
      12: fetchV12,
      13: fetchV13,
      15: fetchV15,
      16: fetchV16,
    };
    for (const [version, api] of Object.entries(apis)) {
      const v = Number(version);
      const byId = v >= 13;
      const bytes = api.createRequest(
        500,
        1,
        52_428_800,
        0,
        0,
        0,
        [
          {
            topicId: byId ? TOPIC_ID : "orders",
            partitions: [
              {
                partition: 3,
                currentLeaderEpoch: 0,
                fetchOffset: 10n,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1_048_576,
              },
            ],
          },
        ],
        [],
        "rack",
      ).buffer;
      const decoded = req.decode(v, bytes);
      expect(decoded.maxWaitMs).toBe(500);
      expect(decoded.maxBytes).toBe(52_428_800);
      expect(decoded.sessionEpoch).toBe(v >= 7 ? 0 : -1);
      const [topic] = decoded.topics;
      if (byId) expect(topic.topicId).toBe(TOPIC_ID);
      else expect(topic.topic).toBe("orders");
      expect(topic.partitions[0]).toMatchObject({
        partition: 3,
        fetchOffset: 10,
        partitionMaxBytes: 1_048_576,
      });
      if (v >= 9) expect(topic.partitions[0].currentLeaderEpoch).toBe(0);
    }
  });

  it("encodes responses KafkaJS reads (v4-v11): records from stored batches, marks, errors, aborted transactions", async () => {
    for (let v = 4; v <= 11; v++) {
      for (const readCommitted of [false, true]) {
        const decoded = await kafkajsResponse("fetch", v).decode(
          Buffer.from(res.encode(v, response(readCommitted))),
        );
        if (v >= 7) expect(decoded).toMatchObject({ errorCode: 0, sessionId: 0 });
        const [topic] = decoded.responses;
        expect(topic.topicName).toBe("orders");
        const [ok, failed] = topic.partitions;
        expect(ok).toMatchObject({
          partition: 3,
          errorCode: 0,
          highWatermark: "13",
          lastStableOffset: "13",
          abortedTransactions: [],
        });
        if (v >= 5) expect(ok.lastStartOffset).toBe("2");
        if (v >= 11) expect(ok.preferredReadReplica).toBe(-1);
        expect(
          ok.messages.map(
            (m: { offset: string; key: Buffer; value: Buffer; headers: Record<string, Buffer> }) => ({
              offset: Number(m.offset),
              key: text(m.key),
              value: text(m.value),
              headers: Object.fromEntries(Object.entries(m.headers).map(([k, h]) => [k, text(h)])),
            }),
          ),
        ).toEqual(EXPECTED);
        expect(failed).toMatchObject({ partition: 4, errorCode: 1, highWatermark: "-1", messages: [] });
      }
    }
  });

  it("encodes responses @platformatic/kafka reads (v4-v16), topic ids and tagged fields included", () => {
    const apis = {
      4: fetchV4,
      5: fetchV5,
      7: fetchV7,
      11: fetchV11,
      12: fetchV12,
      13: fetchV13,
      15: fetchV15,
      16: fetchV16,
    };
    for (const [version, api] of Object.entries(apis)) {
      const v = Number(version);
      const parsed = platformaticParse(api, 1, v, res.encode(v, response(false))) as {
        responses: { topicId: string; partitions: Record<string, unknown>[] }[];
      };
      const [topic] = parsed.responses;
      expect(topic.topicId).toBe(v >= 13 ? TOPIC_ID : "orders");
      const [ok, failed] = topic.partitions as {
        partitionIndex: number;
        errorCode: number;
        highWatermark: bigint;
        records: {
          firstOffset: bigint;
          records: { offsetDelta: number; key: Buffer; value: Buffer; headers: [Buffer, Buffer][] }[];
        }[];
      }[];
      expect(ok.partitionIndex).toBe(3);
      expect(ok.errorCode).toBe(0);
      expect(ok.highWatermark).toBe(13n);
      const records = ok.records.flatMap((b) =>
        b.records.map((r) => ({
          offset: Number(b.firstOffset) + r.offsetDelta,
          key: text(r.key),
          value: text(r.value),
          headers: Object.fromEntries(r.headers.map(([k, h]) => [text(k), text(h)])),
        })),
      );
      expect(records).toEqual(EXPECTED);
      expect(failed.errorCode).toBe(1);
    }
  });

  it("round-trips every version through its own codec, tagged request fields included", () => {
    for (let v = 4; v <= 16; v++) {
      const request = req.decode(
        v,
        req.encode(v, {
          clusterId: "c",
          replicaState: { replicaId: -1, replicaEpoch: -1 },
          maxWaitMs: 10,
          minBytes: 2,
          maxBytes: 3,
          isolationLevel: 1,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: "t",
              topicId: TOPIC_ID,
              partitions: [
                {
                  partition: 1,
                  currentLeaderEpoch: 0,
                  fetchOffset: 5,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1,
                  partitionMaxBytes: 9,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: "",
        }),
      );
      expect(request.maxWaitMs).toBe(10);
      expect(request.clusterId).toBe(v >= 12 ? "c" : null);
      expect(request.topics[0].partitions[0].fetchOffset).toBe(5);
      if (v >= 13) expect(request.topics[0].topicId).toBe(TOPIC_ID);
      else expect(request.topics[0].topic).toBe("t");
      const decoded = res.decode(v, res.encode(v, response(true)));
      expect(decoded.responses[0].partitions[0].records).toEqual(storedBatches());
      expect(decoded.responses[0].partitions[0].abortedTransactions).toEqual([]);
      expect(decoded.responses[0].partitions[1].abortedTransactions).toBeNull();
    }
  });
});
