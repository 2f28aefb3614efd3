import type { KafkaErrorCode } from "../../errors.js";
import { jsonResponse } from "../json-response.js";
import { defineRoute, type InputPart } from "../route.js";
import { InitProducerRequest, InitProducerResponse } from "../schemas.js";

function producerFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  return part === "body" && path[0] === "transactionalId" ? "INVALID_TRANSACTIONAL_ID" : undefined;
}

/** Kafka's InitProducerId (KIP-98), architecture §13. */
export const initProducerRoute = defineRoute({
  method: "POST",
  path: "/v1/producers",
  group: "produce",
  operationId: "initProducer",
  summary: "Kafka's InitProducerId: a producer id and epoch for idempotent produce",
  description:
    "Without a transactionalId: a new producer id at epoch 0. With one (Kafka's transactional.id): the id that name " +
    "had before, at the next epoch, which fences every request still carrying an older epoch (409 INVALID_PRODUCER_EPOCH); " +
    "a new id at epoch 0 the first time. Produce requests then carry the id, the epoch and a base sequence per partition, " +
    "so a retry is answered with the original offsets instead of appending twice. A producer's state expires after " +
    "producer.id.expiration.ms without appends (404 UNKNOWN_PRODUCER_ID; initialise again).",
  body: InitProducerRequest,
  codeFor: producerFieldCode,
  responses: { 200: { description: "The producer's id and epoch.", schema: InitProducerResponse } },
  errors: ["INVALID_TRANSACTIONAL_ID", "KAFKA_STORAGE_ERROR"],
  async handle({ body, broker }) {
    const identity = await broker.initProducer({ transactionalId: body.transactionalId ?? null });
    return jsonResponse(200, { producerId: identity.producerId, producerEpoch: identity.producerEpoch });
  },
});
