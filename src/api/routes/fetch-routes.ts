import type { FetchResult } from "../../broker/types.js";
import { DEFAULT_MAX_BYTES } from "../../broker/read.js";
import { FloeError, type KafkaErrorCode } from "../../errors.js";
import type { Logger } from "@aws-lambda-powertools/logger";
import { toPublicError } from "../error-response.js";
import { jsonTextResponse } from "../json-response.js";
import { loggableError } from "../loggable-error.js";
import { type Encoding, escapedIn, renderRecord } from "../record-encoding.js";
import { defineRoute, type InputPart } from "../route.js";
import { acceptsRecordBatches, RECORD_BATCH_MEDIA_TYPE, recordBatchResponse } from "./record-batch-media.js";
import {
  FetchManyQuery,
  FetchManyRequest,
  FetchManyResponse,
  FetchQuery,
  MAX_BODY_BYTES,
  PartitionParams,
  PartitionRecords,
} from "../schemas.js";

function fetchFieldCode(part: InputPart, path: readonly PropertyKey[]): KafkaErrorCode | undefined {
  if (path[0] === "encoding") return "UNSUPPORTED_ENCODING";
  if (part === "params" && path[0] === "topic") return "INVALID_TOPIC_EXCEPTION";
  if (part === "body" && path[0] === "partitions" && path[2] === "topic") return "INVALID_TOPIC_EXCEPTION";
  return undefined;
}

/**
 * The most a JSON fetch answer may weigh as a Lambda function returns it (the body escaped into the
 * result's JSON), less room for the status and headers beside it: Lambda's 6 MB response limit.
 * The dev server keeps the same bound, so an answer that works locally works deployed.
 */
export const MAX_ANSWER_PAYLOAD_BYTES = MAX_BODY_BYTES - 16 * 1024;

/**
 * What one answer may still take. Escaping at most doubles a text (a JSON text holds no raw control
 * character but whitespace), so a record is charged twice its bytes against the payload until that
 * bound no longer fits; the records so far are then counted exactly, once, and every later one too.
 * An answer under ~3 MB never pays for counting.
 */
class AnswerBudget {
  /** Whether a record is in the answer yet: until one is, the first may pass maxBytes (Kafka's rule, KIP-74). */
  anyRecord = false;
  private exact = false;
  private readonly taken: string[] = [];
  private readonly takenBytes: number[] = [];

  constructor(
    /** Record bytes left within the request's maxBytes (each record's JSON text and its comma). */
    public recordBytes: number,
    /** Payload bytes left within MAX_ANSWER_PAYLOAD_BYTES (everything, escaped as Lambda writes it). */
    public payload: number,
  ) {}

  /** What a record costs against the payload (an upper bound until counting is exact). */
  payloadCost(text: string, bytes: number, escapes: number | undefined): number {
    if (escapes !== undefined) return bytes + escapes;
    if (!this.exact && 2 * bytes <= this.payload) return 2 * bytes;
    if (!this.exact) {
      this.exact = true;
      this.taken.forEach((text, i) => {
        this.payload += this.takenBytes[i] - escapedIn(text);
      });
      this.taken.length = 0;
      this.takenBytes.length = 0;
    }
    return bytes + escapedIn(text);
  }

  take(text: string, bytes: number, payload: number): void {
    this.recordBytes -= bytes;
    this.payload -= payload;
    this.anyRecord = true;
    // Only a record charged the bound is counted again when counting turns exact.
    if (!this.exact && payload === 2 * bytes) {
      this.taken.push(text);
      this.takenBytes.push(bytes);
    }
  }
}

/** One partition's entry as JSON text, with records up to its limits. */
function renderPartition(
  result: FetchResult,
  encoding: Encoding,
  partitionMaxBytes: number,
  budget: AnswerBudget,
): string {
  const records: string[] = [];
  let used = 0;
  let nextOffset = result.nextOffset;
  for (const record of result.records) {
    const rendered = renderRecord(record, encoding);
    const bytes = rendered.bytes + (records.length > 0 ? 1 : 0);
    const withinLimits = used + bytes <= partitionMaxBytes && bytes <= budget.recordBytes;
    const payload =
      withinLimits || !budget.anyRecord ? budget.payloadCost(rendered.text, bytes, rendered.escapes) : 0;
    if (!(withinLimits || !budget.anyRecord) || payload > budget.payload) {
      if (!budget.anyRecord && records.length === 0) {
        throw new FloeError(
          "RECORD_TOO_LARGE",
          `The record at offset ${record.offset} is ${payload} bytes as written in a JSON answer with encoding=${encoding}, more than a fetch ` +
            `answer can carry (${MAX_ANSWER_PAYLOAD_BYTES} bytes, within Lambda's 6 MB response limit); read it with Accept: ${RECORD_BATCH_MEDIA_TYPE}` +
            (encoding === "base64" ? "." : " or a more compact encoding."),
        );
      }
      nextOffset = record.offset;
      break;
    }
    records.push(rendered.text);
    used += bytes;
    budget.take(rendered.text, bytes, payload);
  }
  return `${envelopeHead(result)}${records.join(",")}${envelopeTail(result, nextOffset)}`;
}

function envelopeHead(result: FetchResult): string {
  return `{"topic":${JSON.stringify(result.topic)},"partition":${result.partition},"records":[`;
}

function envelopeTail(result: FetchResult, nextOffset: number): string {
  return `],"nextOffset":${nextOffset},"highWatermark":${result.highWatermark},"logStartOffset":${result.logStartOffset}}`;
}

/** Payload an entry's text takes in the answer: its bytes escaped as Lambda writes them, and its comma. */
function entryCost(text: string): number {
  return Buffer.byteLength(text) + escapedIn(text) + 1;
}

/** Payload an entry's own fields take whatever records it gets (nextOffset is at most the high-water mark). */
function envelopeCost(result: FetchResult): number {
  return entryCost(envelopeHead(result) + envelopeTail(result, result.highWatermark));
}

function partitionError(topic: string, partition: number, failure: unknown, logger: Logger): string {
  const error = toPublicError(failure);
  if (error.fault === "server") {
    logger.error("fetch failed for a partition", { topic, partition, error: loggableError(failure) });
  }
  return JSON.stringify({ topic, partition, error: error.toJSON() });
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
      const maxBytes = query.maxBytes ?? DEFAULT_MAX_BYTES;
      const budget = new AnswerBudget(maxBytes, MAX_ANSWER_PAYLOAD_BYTES - envelopeCost(result));
      return jsonTextResponse(200, renderPartition(result, query.encoding, maxBytes, budget));
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
      // Errors and every entry's own fields first: they are in the answer whatever records fit.
      const entries: (string | undefined)[] = outcomes.map((o) =>
        "error" in o ? partitionError(o.topic, o.partition, o.error, logger) : undefined,
      );
      const budget = new AnswerBudget(body.maxBytes, MAX_ANSWER_PAYLOAD_BYTES - 16);
      outcomes.forEach((o, i) => {
        const entry = entries[i];
        budget.payload -= entry === undefined ? envelopeCost(o as FetchResult) : entryCost(entry);
      });
      outcomes.forEach((o, i) => {
        if ("error" in o) return;
        const asked = body.partitions[i];
        const limit = asked?.maxBytes ?? body.partitionMaxBytes ?? Number.POSITIVE_INFINITY;
        try {
          entries[i] = renderPartition(o, query.encoding, limit, budget);
        } catch (e) {
          entries[i] = partitionError(o.topic, o.partition, e, logger);
        }
      });
      return jsonTextResponse(200, `{"partitions":[${entries.join(",")}]}`);
    },
  }),
];
