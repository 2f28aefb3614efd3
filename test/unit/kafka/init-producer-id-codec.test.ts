import {
  initProducerIdV0,
  initProducerIdV1,
  initProducerIdV2,
  initProducerIdV3,
  initProducerIdV4,
  initProducerIdV5,
  Reader,
} from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { kafkajsRequest, kafkajsResponse } from "../../support/independent-codecs.js";
import { MessageCodec } from "../../../src/kafka/protocol/codec.js";
import {
  InitProducerIdRequest,
  InitProducerIdResponse,
} from "../../../src/kafka/protocol/messages/init-producer-id.js";

// KafkaJS speaks versions 0-1; @platformatic/kafka all of 0-5, the flexible ones (2+) included.

const req = new MessageCodec(InitProducerIdRequest);
const res = new MessageCodec(InitProducerIdResponse);

const PLATFORMATIC = {
  0: initProducerIdV0,
  1: initProducerIdV1,
  2: initProducerIdV2,
  3: initProducerIdV3,
  4: initProducerIdV4,
  5: initProducerIdV5,
};

describe("InitProducerId (22) codecs", () => {
  it("decodes KafkaJS's requests (v0-v1), with and without a transactionalId", async () => {
    for (const v of [0, 1]) {
      for (const transactionalId of [null, "tx-1"]) {
        const encoded = await kafkajsRequest(
          "initProducerId",
          v,
        )({ transactionalId, transactionTimeout: 30_000 }).encode();
        expect(req.decode(v, encoded.buffer)).toEqual({
          transactionalId,
          transactionTimeoutMs: 30_000,
          producerId: -1,
          producerEpoch: -1,
        });
      }
    }
  });

  it("decodes @platformatic/kafka's requests (v0-v5), the current id and epoch of v3+ included", () => {
    for (const [version, api] of Object.entries(PLATFORMATIC)) {
      const v = Number(version);
      const bytes = (api.createRequest as (...a: unknown[]) => { buffer: Buffer })(null, 1000, 12n, 3).buffer;
      expect(req.decode(v, bytes)).toEqual({
        transactionalId: null,
        transactionTimeoutMs: 1000,
        producerId: v >= 3 ? 12 : -1,
        producerEpoch: v >= 3 ? 3 : -1,
      });
    }
  });

  it("encodes responses KafkaJS (v0-v1) and @platformatic/kafka (v0-v5) read", async () => {
    const answer = { throttleTimeMs: 0, errorCode: 0, producerId: 7, producerEpoch: 2 };
    for (const v of [0, 1]) {
      expect(
        await kafkajsResponse("initProducerId", v).decode(Buffer.from(res.encode(v, answer))),
      ).toMatchObject({
        throttleTime: 0,
        errorCode: 0,
        producerId: "7",
        producerEpoch: 2,
      });
    }
    for (const [version, api] of Object.entries(PLATFORMATIC)) {
      const v = Number(version);
      const bytes = res.encode(v, answer);
      const reader = Reader.from(Buffer.from(bytes));
      expect(api.parseResponse(1, 22, v, reader)).toEqual({
        throttleTimeMs: 0,
        errorCode: 0,
        producerId: 7n,
        producerEpoch: 2,
      });
      expect(reader.position).toBe(bytes.length);
    }
  });

  it("round-trips every version through its own codec", () => {
    for (let v = 0; v <= 5; v++) {
      const request = {
        transactionalId: "t",
        transactionTimeoutMs: 5,
        producerId: v >= 3 ? 9 : -1,
        producerEpoch: v >= 3 ? 1 : -1,
      };
      expect(req.decode(v, req.encode(v, request))).toEqual(request);
    }
    expect(req.supports(6)).toBe(false);
  });
});
