/**
 * The traffic figures of one API request, as the deployed dashboard charts them (cdk/observability.ts
 * FLOE_METRICS, namespace Floe). Pure: the Lambda edge (functions/metered-broker.ts) feeds it what the
 * broker answered and publishes the points as CloudWatch embedded metric format; `floe dev` does not.
 *
 * - RecordsIn / BytesIn: records a produce appended, and their bytes.
 * - RecordsOut / BytesOut: records a fetch returned, and their bytes.
 * - Bytes are what the request carried: for JSON records (decoded), the key, value and header key
 *   and value bytes; for the binary path (RecordBatch v2), the batches' bytes as sent, framing
 *   included, as Kafka's BytesInPerSec and BytesOutPerSec count them.
 * - ConsumerLag: on a fetch, per partition answered, highWatermark − nextOffset (the records still
 *   to read after this answer, never below 0); a request's value is the largest over its
 *   partitions, and the dashboard charts its Maximum. Partitions that answered an error count in
 *   no figure.
 *
 * Only successful work is counted: a refused or failed produce adds nothing (a wide produce that
 * committed only in part is answered as an error, so its committed part is not counted either).
 */
import { type AppendRequest, isBatchRequest } from "../broker/append.js";
import type { PartitionFetchOutcome } from "../broker/broker.js";
import type { RawFetchResult } from "../broker/read-raw.js";
import type { FetchedRecord, FetchResult, ProduceRecord } from "../broker/types.js";
import { readBatchHeaders } from "../log/record-batch.js";

/** The metric names; cdk/observability.ts's FLOE_METRICS must name the same (a test checks). */
export const REQUEST_METRIC_NAMES = {
  recordsIn: "RecordsIn",
  recordsOut: "RecordsOut",
  bytesIn: "BytesIn",
  bytesOut: "BytesOut",
  consumerLag: "ConsumerLag",
} as const;

export interface RequestMetricPoint {
  name: (typeof REQUEST_METRIC_NAMES)[keyof typeof REQUEST_METRIC_NAMES];
  unit: "Count" | "Bytes";
  value: number;
}

/** One request's figures, added up as the broker answers it. */
export class RequestTally {
  private produces = 0;
  private recordsIn = 0;
  private bytesIn = 0;
  private fetches = 0;
  private recordsOut = 0;
  private bytesOut = 0;
  private consumerLag = 0;

  /** A produce request that the broker appended. */
  produced(request: AppendRequest): void {
    this.produces++;
    if (isBatchRequest(request)) {
      for (const { bytes } of request.batches) {
        this.bytesIn += bytes.length;
        for (const header of readBatchHeaders(bytes)) this.recordsIn += header.recordCount;
      }
    } else {
      this.recordsIn += request.records.length;
      for (const record of request.records) this.bytesIn += recordBytes(record);
    }
  }

  /** One partition's fetch, decoded records or raw batches. */
  fetched(result: FetchResult | RawFetchResult): void {
    this.fetches++;
    if (isRaw(result)) {
      this.recordsOut += result.records;
      this.bytesOut += result.bytes.length;
    } else {
      this.recordsOut += result.records.length;
      for (const record of result.records) this.bytesOut += recordBytes(record);
    }
    this.consumerLag = Math.max(this.consumerLag, result.highWatermark - result.nextOffset);
  }

  /** A fetch over many partitions: each partition that answered records (or none) counts. */
  fetchedMany(outcomes: readonly PartitionFetchOutcome[]): void {
    for (const outcome of outcomes) if (!("error" in outcome)) this.fetched(outcome);
  }

  /** The points to publish: none for a request that neither produced nor fetched. */
  points(): RequestMetricPoint[] {
    const points: RequestMetricPoint[] = [];
    if (this.produces > 0) {
      points.push(
        { name: REQUEST_METRIC_NAMES.recordsIn, unit: "Count", value: this.recordsIn },
        { name: REQUEST_METRIC_NAMES.bytesIn, unit: "Bytes", value: this.bytesIn },
      );
    }
    if (this.fetches > 0) {
      points.push(
        { name: REQUEST_METRIC_NAMES.recordsOut, unit: "Count", value: this.recordsOut },
        { name: REQUEST_METRIC_NAMES.bytesOut, unit: "Bytes", value: this.bytesOut },
        { name: REQUEST_METRIC_NAMES.consumerLag, unit: "Count", value: this.consumerLag },
      );
    }
    return points;
  }
}

function isRaw(result: FetchResult | RawFetchResult): result is RawFetchResult {
  return typeof result.records === "number";
}

/** Key, value and header bytes: what the record carries, without any encoding's framing. */
function recordBytes(record: ProduceRecord | FetchedRecord): number {
  let n = (record.key?.length ?? 0) + (record.value?.length ?? 0);
  for (const header of record.headers ?? []) n += Buffer.byteLength(header.key) + (header.value?.length ?? 0);
  return n;
}
