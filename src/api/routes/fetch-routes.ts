import type { z } from "zod";
import type { PartitionFetchOutcome } from "../../broker/broker.js";
import type { FetchResult } from "../../broker/types.js";
import type { KafkaErrorCode } from "../../errors.js";
import type { Logger } from "@aws-lambda-powertools/logger";
import { toPublicError } from "../error-response.js";
import { jsonResponse } from "../json-response.js";
import { loggableError } from "../loggable-error.js";
import { decodeHeaders, decodeKey, decodeValue, type Encoding } from "../record-encoding.js";
import { defineRoute, type InputPart } from "../route.js";
import { acceptsRecordBatches, RECORD_BATCH_MEDIA_TYPE, recordBatchResponse } from "./record-batch-media.js";
import {
  FetchManyQuery,
  FetchManyRequest,
  FetchManyResponse,
  FetchQuery,
  PartitionParams,
  PartitionRecords,
} from "../schemas.js";

function fetchFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  if (path[0] === "encoding") return "UNSUPPORTED_ENCODING";
  if (part === "params" && path[0] === "topic") return "INVALID_TOPIC_EXCEPTION";
  if (part === "body" && path[0] === "partitions" && path[2] === "topic") return "INVALID_TOPIC_EXCEPTION";
  return undefined;
}

export function partitionRecordsBody(
  result: FetchResult,
  encoding: Encoding,
): z.input<typeof PartitionRecords> {
  return {
    topic: result.topic,
    partition: result.partition,
    records: result.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: decodeKey(r.key, encoding, r.offset),
      value: decodeValue(r.value, encoding, r.offset),
      headers: decodeHeaders(r.headers, encoding, r.offset),
    })),
    nextOffset: result.nextOffset,
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
  };
}

function partitionOutcomeBody(outcome: PartitionFetchOutcome, encoding: Encoding, logger: Logger) {
  let failure: unknown;
  if ("error" in outcome) {
    failure = outcome.error;
  } else {
    try {
      return partitionRecordsBody(outcome, encoding);
    } catch (e) {
      failure = e;
    }
  }
  const error = toPublicError(failure);
  if (error.fault === "server") {
    logger.error("fetch failed for a partition", {
      topic: outcome.topic,
      partition: outcome.partition,
      error: loggableError(failure),
    });
  }
  return { topic: outcome.topic, partition: outcome.partition, error: error.toJSON() };
}

export const fetchRoutes = [
  defineRoute({
    method: "GET",
    path: "/v1/topics/{topic}/partitions/{partition}/records",
    group: "fetch",
    operationId: "fetch",
    summary: "Read one partition from an offset, long-polling at the high-water mark",
    params: PartitionParams,
    query: FetchQuery,
    codeFor: fetchFieldCode,
    responses: {
      200: {
        description: `Records from the offset on. With Accept: ${RECORD_BATCH_MEDIA_TYPE}, whole stored batches instead.`,
        schema: PartitionRecords,
        binary: {
          mediaType: RECORD_BATCH_MEDIA_TYPE,
          description:
            "Whole RecordBatch v2 batches with their real base offsets (the first may start before the requested offset, as in Kafka); " +
            "headers Floe-High-Watermark, Floe-Log-Start-Offset and Floe-Next-Offset. Bounded by maxBytes (and by maxRecords only when given), " +
            "at batch boundaries; encoding is ignored.",
        },
      },
    },
    errors: [
      "INVALID_TOPIC_EXCEPTION",
      "UNKNOWN_TOPIC_OR_PARTITION",
      "OFFSET_OUT_OF_RANGE",
      "UNSUPPORTED_ENCODING",
      "KAFKA_STORAGE_ERROR",
    ],
    async handle({ params, query, broker, headers, signal }) {
      const request = {
        topic: params.topic,
        partition: params.partition,
        offset: query.offset,
        maxRecords: query.maxRecords,
        maxBytes: query.maxBytes,
        maxWaitMs: query.maxWaitMs,
        signal,
      };
      if (acceptsRecordBatches(headers.accept)) return recordBatchResponse(await broker.fetchRaw(request));
      const result = await broker.fetch(request);
      return jsonResponse(200, partitionRecordsBody(result, query.encoding));
    },
  }),
  defineRoute({
    method: "POST",
    path: "/v1/fetch",
    group: "fetch",
    operationId: "fetchMany",
    summary: "Read many partitions in one call (Kafka's Fetch); errors are per partition",
    description:
      "Kafka's Fetch: answers once minBytes of records are ready across the partitions (default 1: as soon as any has a record), " +
      "a partition failed, or maxWaitMs passed, waking on each append to any of them. Each partition answers at most its " +
      "maxBytes (partitionMaxBytes by default) and all of them at most maxBytes, except the first record of the first " +
      "partition with records.",
    query: FetchManyQuery,
    body: FetchManyRequest,
    codeFor: fetchFieldCode,
    responses: { 200: { description: "One entry per requested partition.", schema: FetchManyResponse } },
    errors: ["INVALID_TOPIC_EXCEPTION", "UNSUPPORTED_ENCODING", "INVALID_REQUEST"],
    async handle({ query, body, broker, logger, signal }) {
      const outcomes = await broker.fetchMany(body.partitions, {
        maxWaitMs: body.maxWaitMs,
        minBytes: body.minBytes,
        maxBytes: body.maxBytes,
        partitionMaxBytes: body.partitionMaxBytes,
        maxRecords: body.maxRecords,
        signal,
      });
      return jsonResponse(200, {
        partitions: outcomes.map((o) => partitionOutcomeBody(o, query.encoding, logger)),
      });
    },
  }),
];
