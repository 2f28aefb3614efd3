import { z } from "zod";
import type { KafkaErrorCode } from "../../errors.js";
import { FloeError } from "../../errors.js";
import { readBatchHeaders } from "../../log/record-batch.js";
import { jsonResponse } from "../json-response.js";
import { defineRoute, type InputPart } from "../route.js";
import { apiSchemas, PartitionParams } from "../schemas.js";
import {
  isRecordBatchMediaType,
  MAX_RECORD_BATCH_BODY_BYTES,
  RECORD_BATCH_MEDIA_TYPE,
} from "./record-batch-media.js";

const BatchProduceResponse = z.object({
  baseOffset: z.number().int().describe("The offset of the first record of the first batch."),
  count: z
    .number()
    .int()
    .describe("Records appended; they hold offsets baseOffset to baseOffset + count - 1."),
});
apiSchemas.add(BatchProduceResponse, { id: "BatchProduceResponse" });

function paramCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  return part === "params" && path[0] === "topic" ? "INVALID_TOPIC_EXCEPTION" : undefined;
}

export const batchProduceRoute = defineRoute({
  method: "POST",
  path: "/v1/topics/{topic}/partitions/{partition}/records",
  group: "produce",
  operationId: "produceBatches",
  summary: "Append client-encoded Kafka RecordBatch v2 bytes to one partition (the binary fast path)",
  description:
    `The body is one or more RecordBatch v2 (magic 2) with Content-Type ${RECORD_BATCH_MEDIA_TYPE}, at most ` +
    `${MAX_RECORD_BATCH_BODY_BYTES} bytes. Each batch's CRC, size (max.message.bytes), record count and records are checked; ` +
    "control and transactional batches are refused. Compressed batches (gzip, snappy raw or xerial-framed, lz4 frames, zstd) " +
    "are inflated to check their records, to at most 64 MiB (413 MESSAGE_TOO_LARGE past it; 400 CORRUPT_MESSAGE when they do " +
    "not inflate), and stored still compressed. One bad batch " +
    "appends nothing. The batches are stored as sent (a LogAppendTime topic stamps maxTimestamp and the CRC, as Kafka does). " +
    "An idempotent producer (POST /v1/producers) sets producerId, producerEpoch and baseSequence in the batch headers " +
    "(every batch of a request the same id and epoch, sequences following each other): a retry of an appended request " +
    "answers its original baseOffset and appends nothing; a gap is 409 OUT_OF_ORDER_SEQUENCE_NUMBER (retriable), an " +
    "older epoch 409 INVALID_PRODUCER_EPOCH, an unknown or expired producer 404 UNKNOWN_PRODUCER_ID.",
  params: PartitionParams,
  codeFor: paramCode,
  binaryBody: { mediaType: RECORD_BATCH_MEDIA_TYPE, description: "Concatenated Kafka RecordBatch v2 bytes." },
  responses: {
    200: { description: "Where the records landed, once durable.", schema: BatchProduceResponse },
  },
  errors: [
    "INVALID_TOPIC_EXCEPTION",
    "UNKNOWN_TOPIC_OR_PARTITION",
    "CORRUPT_MESSAGE",
    "INVALID_RECORD",
    "UNSUPPORTED_MEDIA_TYPE",
    "RECORD_TOO_LARGE",
    "MESSAGE_TOO_LARGE",
    "KAFKA_STORAGE_ERROR",
    "REQUEST_TIMED_OUT",
    "OUT_OF_ORDER_SEQUENCE_NUMBER",
    "INVALID_PRODUCER_EPOCH",
    "UNKNOWN_PRODUCER_ID",
  ],
  async handle({ params, headers, rawBody, produce }) {
    const contentType = headers["content-type"];
    if (!isRecordBatchMediaType(contentType)) {
      throw new FloeError(
        "UNSUPPORTED_MEDIA_TYPE",
        `This route takes raw record batches with Content-Type: ${RECORD_BATCH_MEDIA_TYPE}; got ${contentType ? `'${contentType}'` : "no Content-Type"}. JSON records go to POST /v1/topics/{topic}/records.`,
      );
    }
    const bytes = rawBody();
    if (bytes === undefined)
      throw new FloeError("INVALID_REQUEST", "The request body holds no record batch.");
    if (bytes.length > MAX_RECORD_BATCH_BODY_BYTES) {
      throw new FloeError(
        "MESSAGE_TOO_LARGE",
        `The request body is ${bytes.length} bytes; binary produce takes at most ${MAX_RECORD_BATCH_BODY_BYTES} (what fits Lambda's 6 MB payload once base64-encoded).`,
      );
    }
    const [first] = await produce({ topic: params.topic, batches: [{ partition: params.partition, bytes }] });
    // The broker has validated every batch, so the headers are known to parse.
    const count = readBatchHeaders(bytes).reduce((n, h) => n + h.recordCount, 0);
    return jsonResponse(200, { baseOffset: first.offset, count });
  },
});
