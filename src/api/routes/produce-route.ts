import type { z } from "zod";
import { PartialAppendError } from "../../broker/append.js";
import type { ProducerFields, ProduceRecord as BrokerRecord, RecordOutcome } from "../../broker/types.js";
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

type ProduceBody = z.output<typeof ProduceRequest>;

/** The idempotent producer's fields, when the body carries them (the schema lets only all three or none through). */
function producerFields(body: ProduceBody): ProducerFields | undefined {
  if (body.producerId === undefined || body.producerEpoch === undefined || body.sequences === undefined)
    return undefined;
  return { producerId: body.producerId, producerEpoch: body.producerEpoch, sequences: body.sequences };
}

/** Kafka's per-partition produce response: offsets where the partition committed, the error where it did not. */
function outcomeBody(outcome: RecordOutcome) {
  if (!("error" in outcome)) return { partition: outcome.partition, offset: outcome.offset };
  const { code, message, retriable } = outcome.error;
  return { partition: outcome.partition, error: { code, message, retriable } };
}

export const produceRoute = defineRoute({
  method: "POST",
  path: "/v1/topics/{topic}/records",
  group: "produce",
  operationId: "produce",
  summary: "Append records; answers their offsets in request order once they are durable",
  description:
    "Every record is validated before anything is appended: one invalid record refuses the whole request. " +
    "An acknowledged record is in object storage and ordered. An idempotent producer (POST /v1/producers) adds " +
    "producerId, producerEpoch and one baseSequence per partition: a retry answers the original offsets and appends " +
    "nothing, a gap is 409 OUT_OF_ORDER_SEQUENCE_NUMBER (retriable: an earlier request may still land), an older epoch " +
    "409 INVALID_PRODUCER_EPOCH, an unknown or expired producer 404 UNKNOWN_PRODUCER_ID. A request spanning more " +
    "partitions than one commit holds may be appended in part: it then answers 200 with an error in place of the offset " +
    "of each record whose partition failed.",
  params: TopicParams,
  query: ProduceQuery,
  body: ProduceRequest,
  bodyFor: (query) => produceRequestFor[query.encoding],
  codeFor: recordFieldCode,
  responses: {
    200: {
      description:
        "The offset of every record, in request order; {partition, error} for the records of a partition that failed while others were appended.",
      schema: ProduceResponse,
    },
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
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "INVALID_PRODUCER_EPOCH",
    "UNKNOWN_PRODUCER_ID",
  ],
  async handle({ params, query, body, produce }) {
    const records = body.records.map((r) => toBrokerRecord(r, query.encoding));
    const producer = producerFields(body);
    try {
      const offsets = await produce({ topic: params.topic, records, ...(producer ? { producer } : {}) });
      return jsonResponse(200, { offsets });
    } catch (error) {
      if (error instanceof PartialAppendError)
        return jsonResponse(200, { offsets: error.outcomes.map(outcomeBody) });
      throw error;
    }
  },
});
