import { z } from "zod";
import { inflateBudget } from "../../broker/client-batches.js";
import { validateTopicName } from "../../broker/topic-config.js";
import { FloeError } from "../../errors.js";
import { readBatchHeaders } from "../../log/record-batch.js";
import { toPublicError } from "../error-response.js";
import { statusForError } from "../error-status.js";
import { jsonResponse } from "../json-response.js";
import { loggableError } from "../loggable-error.js";
import { defineRoute } from "../route.js";
import { apiSchemas } from "../schemas.js";
import { MAX_RECORD_BATCH_BODY_BYTES, RECORD_BATCH_MEDIA_TYPE } from "./record-batch-media.js";

/**
 * The multi-partition produce body: Kafka's Produce request carries every partition's batches in
 * one request, and so does this, framed as length-prefixed entries since HTTP has no Kafka codec.
 * Its own media type, after the record-batch one: the body is not JSON and not bare batches.
 */
export const PARTITION_BATCHES_MEDIA_TYPE = "application/vnd.floe.partition-batches.v1";

/** u16 topic length + at least one topic byte + i32 partition + i32 length. */
const MIN_ENTRY_HEADER_BYTES = 2 + 1 + 4 + 4;

const PartitionOutcome = z.object({
  topic: z.string(),
  partition: z.number().int(),
  baseOffset: z
    .number()
    .int()
    .optional()
    .describe("Where the entry's first record landed (absent when the partition failed)."),
  count: z
    .number()
    .int()
    .optional()
    .describe("Records appended; they hold offsets baseOffset to baseOffset + count - 1."),
  error: z
    .object({
      code: z.string(),
      message: z.string(),
      retriable: z.boolean(),
      status: z
        .number()
        .int()
        .describe("The HTTP status the single-partition route answers this error with."),
    })
    .optional()
    .describe("Why this partition's entry appended nothing (Kafka's per-partition produce error)."),
});
const MultiProduceResponse = z.object({
  results: z.array(PartitionOutcome).describe("One outcome per body entry, in body order."),
});
apiSchemas.add(MultiProduceResponse, { id: "MultiProduceResponse" });

/** One entry of the body: a partition's batches, as views into the body. */
interface Entry {
  topic: string;
  partition: number;
  bytes: Uint8Array;
}

/**
 * Reads every entry before anything is appended, so a malformed body refuses the whole request.
 * The batches themselves are the broker's to validate, per partition, as Kafka's broker does.
 */
export function parsePartitionBatches(body: Uint8Array): Entry[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const entries: Entry[] = [];
  let at = 0;
  while (at < body.length) {
    const index = entries.length;
    if (body.length - at < MIN_ENTRY_HEADER_BYTES) throw truncated(index, "its header");
    const topicLength = view.getUint16(at);
    if (topicLength === 0) {
      throw new FloeError("INVALID_TOPIC_EXCEPTION", `Entry ${index} names no topic (topic length 0).`);
    }
    if (body.length - at - 2 < topicLength + 8) throw truncated(index, "its topic, partition or length");
    const topic = Buffer.from(body.buffer, body.byteOffset + at + 2, topicLength).toString("latin1");
    // Kafka's topic names are ASCII, so any other byte makes the name illegal; the check names it.
    validateTopicName(topic);
    at += 2 + topicLength;
    const partition = view.getInt32(at);
    const length = view.getInt32(at + 4);
    at += 8;
    if (partition < 0) {
      throw new FloeError("INVALID_REQUEST", `Entry ${index} (${topic}) has partition ${partition}.`);
    }
    if (length <= 0) {
      throw new FloeError(
        "INVALID_REQUEST",
        `Entry ${index} (${topic}-${partition}) holds ${length} bytes of batches; it needs at least one batch.`,
      );
    }
    if (body.length - at < length) throw truncated(index, `its ${length} bytes of batches`);
    entries.push({ topic, partition, bytes: body.subarray(at, at + length) });
    at += length;
  }
  if (entries.length === 0) throw new FloeError("INVALID_REQUEST", "The request body holds no entries.");
  return entries;
}

function truncated(index: number, what: string): FloeError {
  return new FloeError("CORRUPT_MESSAGE", `The request body ends inside entry ${index}'s ${what}.`);
}

export const multiProduceRoute = defineRoute({
  method: "POST",
  path: "/v1/records",
  group: "produce",
  operationId: "produceMany",
  summary:
    "Append client-encoded Kafka RecordBatch v2 bytes to many partitions of many topics in one request (Kafka's Produce)",
  description:
    `The body, with Content-Type ${PARTITION_BATCHES_MEDIA_TYPE} and at most ${MAX_RECORD_BATCH_BODY_BYTES} bytes, is ` +
    "one or more entries, each: a big-endian u16 topic name length, the topic name (ASCII), a big-endian i32 partition, " +
    "a big-endian i32 length, then that many bytes of concatenated RecordBatch v2, exactly as the single-partition " +
    `route takes them with Content-Type ${RECORD_BATCH_MEDIA_TYPE} (same checks, compression and idempotent-producer ` +
    "rules). A body that does not frame (truncated: 400 CORRUPT_MESSAGE; no entries, a negative partition, an empty " +
    "entry: 400 INVALID_REQUEST; a bad topic name: 400 INVALID_TOPIC_EXCEPTION; too large: 413 MESSAGE_TOO_LARGE) " +
    "appends nothing. Otherwise each entry is its own append, started in body order, so entries for one partition, and " +
    "pipelined requests, commit in the order sent; the answer is 200 with one outcome per entry, in body order: where " +
    "its records landed, or its own error (as Kafka's Produce response gives each partition's), with the status the " +
    "single-partition route would have answered.",
  binaryBody: {
    mediaType: PARTITION_BATCHES_MEDIA_TYPE,
    description: "Length-prefixed (topic, partition, RecordBatch v2 bytes) entries, repeated.",
  },
  responses: {
    200: {
      description: "Each entry's outcome, once every entry's append has committed or failed.",
      schema: MultiProduceResponse,
    },
  },
  errors: [
    "INVALID_TOPIC_EXCEPTION",
    "INVALID_REQUEST",
    "CORRUPT_MESSAGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "MESSAGE_TOO_LARGE",
  ],
  async handle({ headers, rawBody, produce, logger }) {
    const contentType = headers["content-type"];
    if (contentType?.split(";")[0].trim().toLowerCase() !== PARTITION_BATCHES_MEDIA_TYPE) {
      throw new FloeError(
        "UNSUPPORTED_MEDIA_TYPE",
        `This route takes (topic, partition, batches) entries with Content-Type: ${PARTITION_BATCHES_MEDIA_TYPE}; got ${contentType ? `'${contentType}'` : "no Content-Type"}.`,
      );
    }
    const body = rawBody();
    if (body === undefined) throw new FloeError("INVALID_REQUEST", "The request body holds no entries.");
    if (body.length > MAX_RECORD_BATCH_BODY_BYTES) {
      throw new FloeError(
        "MESSAGE_TOO_LARGE",
        `The request body is ${body.length} bytes; multi-partition produce takes at most ${MAX_RECORD_BATCH_BODY_BYTES} (what fits Lambda's 6 MB payload once base64-encoded).`,
      );
    }
    const entries = parsePartitionBatches(body);
    // Every append is handed to the group commit before the first wait (as Kafka's Produce does),
    // so the entries, and requests pipelined behind this one, commit in the order sent.
    // One allowance for inflating compressed batches across the whole body, not per entry.
    const inflate = inflateBudget();
    const appends = entries.map(({ topic, partition, bytes }) =>
      produce({ topic, batches: [{ partition, bytes }], inflate }).then(
        ([first]) => ({
          topic,
          partition,
          baseOffset: first.offset,
          // The broker has validated every batch, so the headers are known to parse.
          count: readBatchHeaders(bytes).reduce((n, h) => n + h.recordCount, 0),
        }),
        (error: unknown) => {
          const failure = toPublicError(error);
          if (failure.code === "UNKNOWN_SERVER_ERROR")
            logger.error("multi-partition produce: a partition's append failed", {
              topic,
              partition,
              error: loggableError(error),
            });
          return { topic, partition, error: { ...failure.toJSON(), status: statusForError(failure) } };
        },
      ),
    );
    return jsonResponse(200, { results: await Promise.all(appends) });
  },
});
