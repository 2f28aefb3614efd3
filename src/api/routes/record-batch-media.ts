import type { RawFetchResult } from "../../broker/read-raw.js";
import type { ApiResult } from "../json-response.js";
import { withRawBody } from "../raw-body.js";

/**
 * The binary fast path's media type: raw Kafka RecordBatch v2 bytes, concatenated. Neither Kafka
 * nor the Confluent REST Proxy names one; this follows the REST Proxy's
 * `application/vnd.kafka[.format].[version][+serialization]` pattern with no `+json`, since the
 * body is not JSON, and the version is the record format's (magic 2). See
 * docs/decisions/0006-binary-fast-path.md.
 */
export const RECORD_BATCH_MEDIA_TYPE = "application/vnd.kafka.record-batch.v2";

/**
 * The largest binary body a produce takes. API Gateway hands a binary body to Lambda base64-encoded
 * inside the 6 MB invocation payload, so 4 MiB of bytes (5.6 MB as base64) is what reliably fits;
 * floe dev keeps the same limit so it never accepts what a deployment would refuse.
 */
export const MAX_RECORD_BATCH_BODY_BYTES = 4 * 1024 * 1024;

function mediaTypeOf(value: string): string {
  return value.split(";")[0].trim().toLowerCase();
}

export function isRecordBatchMediaType(contentType: string | undefined): boolean {
  return contentType !== undefined && mediaTypeOf(contentType) === RECORD_BATCH_MEDIA_TYPE;
}

/** True when the Accept header lists the record-batch media type (with any q above 0). */
export function acceptsRecordBatches(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((entry) => {
    const [type, ...params] = entry.split(";");
    if (mediaTypeOf(type) !== RECORD_BATCH_MEDIA_TYPE) return false;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * A binary fetch answer: the batches as the body (base64 for API Gateway), the marks as headers.
 * The broker gathers at most MAX_RAW_FETCH_ANSWER_BYTES (4 MiB, the same bound as a binary produce
 * body, for the same reason) whatever maxBytes asks, except a single first batch larger than that,
 * which Kafka's rule returns so a consumer progresses (only a topic whose max.message.bytes exceeds
 * 4 MiB can hold one; a deployed API Gateway cannot carry it).
 */
export function recordBatchResponse(result: RawFetchResult): ApiResult {
  const answer: ApiResult = {
    statusCode: 200,
    headers: {
      "content-type": RECORD_BATCH_MEDIA_TYPE,
      "floe-high-watermark": String(result.highWatermark),
      "floe-log-start-offset": String(result.logStartOffset),
      "floe-next-offset": String(result.nextOffset),
    },
  };
  return withRawBody(answer, result.bytes);
}
