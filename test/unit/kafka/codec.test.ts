import { describe, expect, it } from "vitest";
import { CorruptDataError } from "../../../src/errors.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  ApiVersionsRequest,
  ApiVersionsResponse,
} from "../../../src/kafka/protocol/messages/api-versions.js";
import { RequestHeader } from "../../../src/kafka/protocol/messages/headers.js";
import { MetadataRequest, MetadataResponse } from "../../../src/kafka/protocol/messages/metadata.js";
import type { MessageSpec } from "../../../src/kafka/protocol/spec.js";
import { kafkajsBytes, kafkajsRequest, kafkajsResponse } from "../../support/independent-codecs.js";

const metadataRequest = new MessageCodec(MetadataRequest);
const metadataResponse = new MessageCodec(MetadataResponse);

describe("codecs derived from the message descriptions", () => {
  it("decodes KafkaJS's Metadata requests at every version it sends", async () => {
    for (let v = 0; v <= 6; v++) {
      const bytes = await kafkajsBytes(
        kafkajsRequest("metadata", v)({ topics: ["a", "b"], allowAutoTopicCreation: false }),
      );
      const decoded = metadataRequest.decode(v, bytes);
      expect(decoded.topics?.map((t) => t.name)).toEqual(["a", "b"]);
      // allowAutoTopicCreation exists from v4; before it, the description's default (true) applies.
      expect(decoded.allowAutoTopicCreation).toBe(v < 4);
    }
  });

  it("encodes Metadata responses KafkaJS decodes, field for field", async () => {
    for (let v = 0; v <= 6; v++) {
      const bytes = metadataResponse.encode(v, {
        throttleTimeMs: 7,
        brokers: [{ nodeId: 1, host: "localhost", port: 9092, rack: null }],
        clusterId: "abc",
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: "t",
            partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
          },
        ],
      });
      const decoded = await kafkajsResponse("metadata", v).decode(bytes);
      expect(decoded.brokers).toEqual([
        expect.objectContaining({ nodeId: 1, host: "localhost", port: 9092 }),
      ]);
      expect(decoded.topicMetadata[0].topic).toBe("t");
      expect(decoded.topicMetadata[0].partitionMetadata[0]).toMatchObject({ partitionId: 0, leader: 1 });
      if (v >= 2) expect(decoded.clusterId).toBe("abc");
    }
  });

  it("round-trips every version of Metadata, flexible ones with topic ids and null names", () => {
    for (let v = metadataRequest.low; v <= metadataRequest.high; v++) {
      const value = {
        topics: [{ topicId: v >= 10 ? "0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11" : undefined, name: "x" }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: v >= 8,
      };
      const decoded = metadataRequest.decode(v, metadataRequest.encode(v, value));
      expect(decoded.topics?.[0].name).toBe("x");
      if (v >= 10) expect(decoded.topics?.[0].topicId).toBe("0b8a2a9e-1c1d-4c7a-9a0e-3c2f7f0e2b11");
      expect(decoded.includeTopicAuthorizedOperations).toBe(v >= 8);
    }
    // A null name is legal only from v10, where clients name topics by id.
    expect(
      metadataRequest.decode(10, metadataRequest.encode(10, { topics: [{ name: null }] })).topics?.[0].name,
    ).toBe(null);
    expect(() => metadataRequest.decode(9, metadataRequest.encode(10, { topics: [{ name: null }] }))).toThrow(
      CorruptDataError,
    );
  });

  it("decodes KafkaJS's ApiVersions requests and writes responses it reads", async () => {
    const req = new MessageCodec(ApiVersionsRequest);
    const res = new MessageCodec(ApiVersionsResponse);
    for (let v = 0; v <= 2; v++) {
      expect(req.decode(v, await kafkajsBytes(kafkajsRequest("apiVersions", v)()))).toEqual({
        clientSoftwareName: "",
        clientSoftwareVersion: "",
      });
      const bytes = res.encode(v, { errorCode: 0, apiKeys: [{ apiKey: 3, minVersion: 0, maxVersion: 12 }] });
      const decoded = await kafkajsResponse("apiVersions", v).decode(bytes);
      expect(decoded.apiVersions).toEqual([{ apiKey: 3, minVersion: 0, maxVersion: 12 }]);
    }
  });

  it("writes tagged fields only when they differ from their default, and reads them back", () => {
    const res = new MessageCodec(ApiVersionsResponse);
    const plain = res.encode(3, { errorCode: 0, apiKeys: [] });
    // errorCode, an empty compact array, throttle time, then zero tagged fields.
    expect([...plain]).toEqual([0, 0, 1, 0, 0, 0, 0, 0]);
    const tagged = res.encode(3, {
      errorCode: 0,
      apiKeys: [],
      finalizedFeaturesEpoch: 5,
      supportedFeatures: [{ name: "f", minVersion: 1, maxVersion: 2 }],
    });
    const decoded = res.decode(3, tagged);
    expect(decoded.finalizedFeaturesEpoch).toBe(5);
    expect(decoded.supportedFeatures).toEqual([{ name: "f", minVersion: 1, maxVersion: 2 }]);
    expect(decoded.zkMigrationReady).toBe(false);
  });

  it("skips tagged fields it does not know, as a newer client may send them", () => {
    const req = new MessageCodec(ApiVersionsRequest);
    const known = req.encode(3, { clientSoftwareName: "c", clientSoftwareVersion: "1" });
    // Replace the trailing "no tagged fields" with one unknown tag (99) holding 3 bytes.
    const withTag = Buffer.concat([known.subarray(0, known.length - 1), Buffer.from([1, 99, 3, 1, 2, 3])]);
    expect(req.decode(3, withTag)).toEqual({ clientSoftwareName: "c", clientSoftwareVersion: "1" });
  });

  it("keeps the request header's client id int16-prefixed even in the flexible header", () => {
    const header = new MessageCodec(RequestHeader);
    const bytes = header.encode(2, {
      requestApiKey: 18,
      requestApiVersion: 3,
      correlationId: 9,
      clientId: "ab",
    });
    expect([...bytes]).toEqual([0, 18, 0, 3, 0, 0, 0, 9, 0, 2, 97, 98, 0]);
    expect(header.decode(2, bytes).clientId).toBe("ab");
    expect(header.decode(1, header.encode(1, { clientId: null })).clientId).toBe(null);
  });

  it("refuses truncated frames, lying counts and trailing bytes with CorruptDataError", () => {
    const full = metadataRequest.encode(12, { topics: [{ name: "abc" }, { name: "def" }] });
    for (let cut = 0; cut < full.length; cut++) {
      expect(() => metadataRequest.decode(12, full.subarray(0, cut))).toThrow(CorruptDataError);
    }
    // An array claiming 2^31 - 2 elements in a few bytes is refused before anything is allocated.
    expect(() => metadataRequest.decode(1, Buffer.from([0x7f, 0xff, 0xff, 0xfe, 0, 1, 0]))).toThrow(
      /invalid topics count/,
    );
    expect(() => metadataRequest.decode(12, Buffer.concat([full, Buffer.from([0])]))).toThrow(
      /unexpected bytes/,
    );
  });

  it("accepts only the versions a description declares", () => {
    const spec = {
      apiKey: 999,
      name: "X",
      type: "request",
      validVersions: "2-4",
      flexibleVersions: "none",
      fields: [{ name: "a", type: "int32", versions: "3+" }],
    } as const satisfies MessageSpec;
    const codec = new MessageCodec(spec);
    expect([1, 2, 4, 5].map((v) => codec.supports(v))).toEqual([false, true, true, false]);
    expect(() => codec.at(5)).toThrow(/no version 5/);
    expect(codec.decode(2, new Uint8Array(0))).toEqual({ a: 0 });
  });
});
