import { FloeError } from "../errors.js";
import { asFloeError } from "./append.js";
import { type AppendWaiter, fetchLongPolled } from "./fetch-long-poll.js";
import { MAX_FETCH_ANSWER_BYTES, type Reader, recordBytes } from "./read.js";
import type { FetchResult } from "./types.js";

/** Kafka's fetch.max.bytes: the default limit of one answer across its partitions. */
export const DEFAULT_FETCH_MAX_BYTES = 50 * 1024 * 1024;
/** Kafka's FetchRequest fields are int32. */
const MAX_INT32 = 2_147_483_647;

export interface FetchManyPartition {
  topic: string;
  partition: number;
  offset: number;
  /** Kafka's partition_max_bytes for this partition; default FetchManyOptions.partitionMaxBytes. */
  maxBytes?: number;
}

export interface FetchManyOptions {
  /** Kafka's max_wait_ms: how long to wait for minBytes; default 0. */
  maxWaitMs?: number;
  /** Kafka's min_bytes: record bytes to gather before answering; default 1 (any record), 0 never waits. */
  minBytes?: number;
  /**
   * Kafka's max_bytes: record bytes (as on the wire) across all partitions; default 50 MiB
   * (fetch.max.bytes), and never above MAX_FETCH_ANSWER_BYTES, what the front door can carry.
   */
  maxBytes?: number;
  /** Kafka's partition_max_bytes for partitions that set none; default no limit but maxBytes. */
  partitionMaxBytes?: number;
  /** Records per partition; default 500 (max.poll.records). */
  maxRecords?: number;
  /** Aborted when the caller went away: the long-poll then ends at its next wake-up. */
  signal?: AbortSignal;
}

export type PartitionFetchOutcome = FetchResult | { topic: string; partition: number; error: FloeError };

/**
 * Many partitions in one call (Kafka's Fetch) as decoded records: each partition gets at most its
 * limit and what is left of maxBytes, counted as `recordBytes` counts them (each record's size on
 * the wire), and the whole answer at most MAX_FETCH_ANSWER_BYTES. As in Kafka (KIP-74), only
 * the first partition with data may go past those limits, by its first record, so a consumer always
 * progresses; a partition after it whose limit is used up answers only its marks. The long-poll is
 * the Kafka listener's (fetchLongPolled). Errors are per partition.
 */
export async function fetchMany(
  reader: Reader,
  waiter: AppendWaiter,
  partitions: readonly FetchManyPartition[],
  options: FetchManyOptions,
  maxWaitCapMs: number,
): Promise<PartitionFetchOutcome[]> {
  // What the client asked, within what one answer can carry (the first record may still pass it).
  const maxBytes = Math.min(
    limit("maxBytes", options.maxBytes, DEFAULT_FETCH_MAX_BYTES, 1),
    MAX_FETCH_ANSWER_BYTES,
  );
  const minBytes = limit("minBytes", options.minBytes, 1, 0);
  const partitionMaxBytes = limit("partitionMaxBytes", options.partitionMaxBytes, maxBytes, 0);
  const perPartition = partitions.map((p) => limit("maxBytes", p.maxBytes, partitionMaxBytes, 0));
  const maxWaitMs = Math.min(Math.max(0, options.maxWaitMs ?? 0), maxWaitCapMs);

  const once = async () => {
    let remaining = maxBytes;
    let answered = false;
    const out: PartitionFetchOutcome[] = [];
    for (let i = 0; i < partitions.length; i++) {
      const { topic, partition, offset } = partitions[i];
      try {
        const r = await reader.fetch({
          topic,
          partition,
          offset,
          // The first partition with data takes its first record whatever its limit (even 0).
          maxBytes: answered
            ? Math.min(perPartition[i], remaining)
            : Math.max(1, Math.min(perPartition[i], remaining)),
          maxRecords: options.maxRecords,
          minOneRecord: !answered,
        });
        const bytes = answerBytes(r);
        remaining = Math.max(0, remaining - bytes);
        if (r.records.length > 0) answered = true;
        out.push(r);
      } catch (e) {
        out.push({ topic, partition, error: asFloeError(e) });
      }
    }
    return out;
  };
  return fetchLongPolled(waiter, {
    partitions,
    minBytes,
    maxBytes,
    maxWaitMs,
    cancelled: () => options.signal?.aborted === true,
    read: once,
    weigh: (o) => ("error" in o ? "failed" : { bytes: answerBytes(o), highWatermark: o.highWatermark }),
  });
}

function answerBytes(r: FetchResult): number {
  let n = 0;
  for (const record of r.records) n += recordBytes(record);
  return n;
}

function limit(name: string, given: number | undefined, fallback: number, least: number): number {
  if (given === undefined) return fallback;
  if (!Number.isInteger(given) || given < least || given > MAX_INT32) {
    throw new FloeError(
      "INVALID_REQUEST",
      `${name} must be an integer in [${least}, ${MAX_INT32}], got ${given}.`,
    );
  }
  return given;
}
