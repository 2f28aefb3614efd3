import {
  listOffsetsV1,
  listOffsetsV2,
  listOffsetsV4,
  listOffsetsV5,
  listOffsetsV6,
  listOffsetsV7,
  listOffsetsV8,
  listOffsetsV9,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { kafkajsRequest, kafkajsResponse, platformaticParse } from "../../support/independent-codecs.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ListOffsetsRequest,
  ListOffsetsResponse,
} from "../../../src/kafka/protocol/messages/list-offsets.js";

// KafkaJS speaks versions 1-3; @platformatic/kafka all of 1-9, the flexible ones (6+) included.

const req = new MessageCodec(ListOffsetsRequest);
const res = new MessageCodec(ListOffsetsResponse);

const PLATFORMATIC = {
  1: listOffsetsV1,
  2: listOffsetsV2,
  4: listOffsetsV4,
  5: listOffsetsV5,
  6: listOffsetsV6,
  7: listOffsetsV7,
  8: listOffsetsV8,
  9: listOffsetsV9,
};

const RESPONSE = {
  throttleTimeMs: 0,
  topics: [
    {
      name: "orders",
      partitions: [
        { partitionIndex: 0, errorCode: 0, timestamp: 1_700_000_000_000, offset: 42, leaderEpoch: 0 },
        { partitionIndex: 1, errorCode: 0, timestamp: -1, offset: -1, leaderEpoch: 0 },
        { partitionIndex: 9, errorCode: 3, timestamp: -1, offset: -1, leaderEpoch: -1 },
      ],
    },
  ],
};

describe("ListOffsets (2) codecs", () => {
  it("decodes KafkaJS's requests (v1-v3): earliest, latest and a timestamp", async () => {
    for (const v of [1, 2, 3]) {
      const encoded = await kafkajsRequest(
        "listOffsets",
        v,
      )({
        replicaId: -1,
        isolationLevel: 1,
        topics: [
          {
            topic: "orders",
            partitions: [
              { partition: 0, timestamp: -2 },
              { partition: 1, timestamp: -1 },
              { partition: 2, timestamp: 1_700_000_000_000 },
            ],
          },
        ],
      }).encode();
      expect(req.decode(v, encoded.buffer)).toEqual({
        replicaId: -1,
        isolationLevel: v >= 2 ? 1 : 0,
        topics: [
          {
            name: "orders",
            partitions: [
              { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2 },
              { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -1 },
              { partitionIndex: 2, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000 },
            ],
          },
        ],
      });
    }
  });

  it("decodes @platformatic/kafka's requests (v1-v9), the max-timestamp and tiered specs included", () => {
    for (const [version, api] of Object.entries(PLATFORMATIC)) {
      const v = Number(version);
      const bytes = api.createRequest(-1, 0, [
        {
          name: "orders",
          partitions: [
            { partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -3n },
            { partitionIndex: 1, currentLeaderEpoch: 5, timestamp: -5n },
          ],
        },
      ] as never).buffer;
      const decoded = req.decode(v, bytes);
      expect(decoded.topics[0].name).toBe("orders");
      expect(decoded.topics[0].partitions).toEqual([
        { partitionIndex: 0, currentLeaderEpoch: v >= 4 ? 5 : -1, timestamp: -3 },
        { partitionIndex: 1, currentLeaderEpoch: v >= 4 ? 5 : -1, timestamp: -5 },
      ]);
    }
  });

  it("encodes responses KafkaJS reads (v1-v3)", async () => {
    for (const v of [1, 2, 3]) {
      const decoded = await kafkajsResponse("listOffsets", v).decode(Buffer.from(res.encode(v, RESPONSE)));
      expect(decoded.responses).toEqual([
        {
          topic: "orders",
          partitions: [
            { partition: 0, errorCode: 0, timestamp: "1700000000000", offset: "42" },
            { partition: 1, errorCode: 0, timestamp: "-1", offset: "-1" },
            { partition: 9, errorCode: 3, timestamp: "-1", offset: "-1" },
          ],
        },
      ]);
    }
  });

  it("encodes responses @platformatic/kafka reads (v1-v9)", () => {
    for (const [version, api] of Object.entries(PLATFORMATIC)) {
      const v = Number(version);
      const bytes = res.encode(v, RESPONSE);
      // Partition 9's error makes it throw, with the whole response attached; read to the last byte.
      const parsed = platformaticParse(api, 2, v, bytes) as {
        topics: { name: string; partitions: Record<string, unknown>[] }[];
      };
      expect(parsed.topics[0].name).toBe("orders");
      expect(
        parsed.topics[0].partitions.map((p) => [p.partitionIndex, p.errorCode, p.timestamp, p.offset]),
      ).toEqual([
        [0, 0, 1_700_000_000_000n, 42n],
        [1, 0, -1n, -1n],
        [9, 3, -1n, -1n],
      ]);
      if (v >= 4) expect(parsed.topics[0].partitions[0].leaderEpoch).toBe(0);
    }
  });

  it("round-trips every version through its own codec", () => {
    for (let v = 1; v <= 9; v++) {
      const decoded = res.decode(v, res.encode(v, RESPONSE));
      expect(decoded.topics[0].partitions[0]).toMatchObject({ offset: 42, timestamp: 1_700_000_000_000 });
      expect(decoded.topics[0].partitions[0].leaderEpoch).toBe(v >= 4 ? 0 : -1);
    }
    expect(req.supports(0)).toBe(false);
    expect(req.supports(10)).toBe(false);
  });
});
