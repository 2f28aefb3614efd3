import type { KafkaErrorCode } from "../../errors.js";
import { jsonResponse } from "../json-response.js";
import { defineRoute, type InputPart } from "../route.js";
import { ListedOffset, ListOffsetsQuery, PartitionParams } from "../schemas.js";

function offsetsFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  return part === "params" && path[0] === "topic" ? "INVALID_TOPIC_EXCEPTION" : undefined;
}

export const offsetsRoute = defineRoute({
  method: "GET",
  path: "/v1/topics/{topic}/partitions/{partition}/offsets",
  group: "fetch",
  operationId: "listOffsets",
  summary: "Kafka's ListOffsets: the earliest, latest, or first offset at or after a time",
  params: PartitionParams,
  query: ListOffsetsQuery,
  codeFor: offsetsFieldCode,
  responses: { 200: { description: "The offset found.", schema: ListedOffset } },
  errors: ["INVALID_TOPIC_EXCEPTION", "UNKNOWN_TOPIC_OR_PARTITION", "INVALID_REQUEST"],
  async handle({ params, query, broker }) {
    const listed = await broker.listOffsets(params.topic, params.partition, query.at);
    return jsonResponse(200, {
      topic: params.topic,
      partition: listed.partition,
      offset: listed.offset,
      timestamp: listed.timestamp,
    });
  },
});
