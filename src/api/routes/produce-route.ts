import type { z } from "zod";
import type { ProduceRecord as BrokerRecord } from "../../broker/types.js";
import type { KafkaErrorCode } from "../../errors.js";
import { jsonResponse } from "../json-response.js";
import { encodeHeaders, encodeKey, encodeValue, type Encoding } from "../record-encoding.js";
import { defineRoute, type InputPart } from "../route.js";
import { ProduceQuery, ProduceRequest, ProduceResponse, produceRequestFor, TopicParams } from "../schemas.js";

export function recordFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  if (part === "params") return path[0] === "topic" ? "INVALID_TOPIC_EXCEPTION" : undefined;
  if (part === "query") return path[0] === "encoding" ? "UNSUPPORTED_ENCODING" : undefined;
  return path[0] === "records" && path.length > 1 ? "INVALID_RECORD" : undefined;
}

function toBrokerRecord(
  r: z.output<typeof ProduceRequest>["records"][number],
  encoding: Encoding,
): BrokerRecord {
  return {
    key: encodeKey(r.key, encoding),
    value: encodeValue(r.value, encoding),
    headers: encodeHeaders(r.headers, encoding),
    partition: r.partition ?? undefined,
    timestamp:
      r.timestamp === undefined || r.timestamp === null
        ? undefined
        : typeof r.timestamp === "number"
          ? r.timestamp
          : Date.parse(r.timestamp),
  };
}

export const produceRoute = defineRoute({
  method: "POST",
  path: "/v1/topics/{topic}/records",
  group: "produce",
  operationId: "produce",
  summary: "Append records; answers their offsets in request order once they are durable",
  description:
    "Every record is validated before anything is appended: one invalid record refuses the whole request. " +
    "An acknowledged record is in object storage and ordered.",
  params: TopicParams,
  query: ProduceQuery,
  body: ProduceRequest,
  bodyFor: (query) => produceRequestFor[query.encoding],
  codeFor: recordFieldCode,
  responses: {
    200: { description: "The offset of every record, in request order.", schema: ProduceResponse },
  },
  errors: [
    "INVALID_TOPIC_EXCEPTION",
    "UNKNOWN_TOPIC_OR_PARTITION",
    "INVALID_RECORD",
    "UNSUPPORTED_ENCODING",
    "RECORD_TOO_LARGE",
    "MESSAGE_TOO_LARGE",
    "KAFKA_STORAGE_ERROR",
    "REQUEST_TIMED_OUT",
  ],
  async handle({ params, query, body, produce }) {
    const records = body.records.map((r) => toBrokerRecord(r, query.encoding));
    const offsets = await produce({ topic: params.topic, records });
    return jsonResponse(200, { offsets });
  },
});
