import { decodeBatches } from "../log/record-batch.js";
import { fromWire } from "./bytes.js";
import { FloeClientError } from "./client-error.js";
import {
  type HttpTransport,
  RECORD_BATCH_MEDIA_TYPE,
  segment,
  topicSegment,
  type WireProtocol,
} from "./http-transport.js";
import type {
  ConsumedRecord,
  ListedOffset,
  OffsetSpec,
  PartitionFetch,
  WirePartitionFetch,
  WireRecordOut,
} from "./types.js";
import type { KafkaErrorCode } from "../errors.js";

export interface FetchOptions {
  topic: string;
  partition: number;
  offset: number;
  /** Default: the server's (500, Kafka's max.poll.records). */
  maxRecords?: number;
  maxBytes?: number;
  /** Long-poll at the high-water mark for up to this long (Kafka's fetch.max.wait.ms). */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

export interface FetchManyOptions {
  /** `maxBytes` on a partition is its own limit (Kafka's partition_max_bytes), else partitionMaxBytes. */
  partitions: { topic: string; partition: number; offset: number; maxBytes?: number }[];
  /** Long-poll for up to this long until minBytes are ready (Kafka's fetch.max.wait.ms). */
  maxWaitMs?: number;
  /** Record bytes to wait for across the partitions (Kafka's fetch.min.bytes); the server's default is 1. */
  minBytes?: number;
  /** Across all partitions (Kafka's fetch.max.bytes). */
  maxBytes?: number;
  /** Per partition (Kafka's max.partition.fetch.bytes); the server's default is no limit but maxBytes. */
  partitionMaxBytes?: number;
  /** Per partition. */
  maxRecords?: number;
  signal?: AbortSignal;
}

/** A partition that could not be read in a multi-partition fetch; the others still answer, as in Kafka. */
export interface PartitionFetchError {
  topic: string;
  partition: number;
  error: FloeClientError;
}

/**
 * Reads partitions by offset, with no group: Kafka's assign() + seek() + poll(). Keys, values and
 * header values come back as Buffers holding exactly the bytes that were produced. fetch() reads
 * Kafka RecordBatch v2 bytes by default (`protocol: "binary"`); fetchMany() is JSON.
 */
export class PartitionReader {
  constructor(
    private readonly transport: HttpTransport,
    private readonly protocol: WireProtocol = "binary",
  ) {}

  async fetch(options: FetchOptions): Promise<PartitionFetch> {
    if (this.protocol === "binary") return this.fetchBatches(options);
    const answer = await this.transport.request<WirePartitionFetch>(
      "GET",
      `/v1/topics/${topicSegment(options.topic)}/partitions/${segment(options.partition)}/records`,
      {
        query: {
          offset: options.offset,
          maxRecords: options.maxRecords,
          maxBytes: options.maxBytes,
          maxWaitMs: options.maxWaitMs,
          encoding: "base64",
        },
        signal: options.signal,
        extraTimeoutMs: options.maxWaitMs,
      },
    );
    return toPartitionFetch(options.topic, options.partition, answer);
  }

  /**
   * The binary fast path: whole batches as stored, decoded here (CRCs checked, as Kafka's consumer
   * does with check.crcs). Records before the requested offset, in the first batch, are skipped.
   */
  private async fetchBatches(options: FetchOptions): Promise<PartitionFetch> {
    const answer = await this.transport.exchange(
      "GET",
      `/v1/topics/${topicSegment(options.topic)}/partitions/${segment(options.partition)}/records`,
      {
        query: {
          offset: options.offset,
          maxRecords: options.maxRecords,
          maxBytes: options.maxBytes,
          maxWaitMs: options.maxWaitMs,
          encoding: "base64",
        },
        // A server without the fast path answers JSON (base64 values), which is read the old way.
        accept: `${RECORD_BATCH_MEDIA_TYPE}, application/json;q=0.5`,
        signal: options.signal,
        extraTimeoutMs: options.maxWaitMs,
      },
    );
    if (answer.mediaType !== RECORD_BATCH_MEDIA_TYPE) {
      let wire: WirePartitionFetch;
      try {
        wire = JSON.parse(answer.bytes.toString("utf8")) as WirePartitionFetch;
      } catch {
        throw new FloeClientError(
          "UNKNOWN_SERVER_ERROR",
          "the server's fetch answer is neither record batches nor JSON",
        );
      }
      return toPartitionFetch(options.topic, options.partition, wire);
    }
    const mark = (name: string) => {
      const value = Number(answer.headers.get(name));
      if (!Number.isSafeInteger(value)) {
        throw new FloeClientError(
          "UNKNOWN_SERVER_ERROR",
          `the server's fetch answer has no valid ${name} header`,
        );
      }
      return value;
    };
    const limit = options.maxRecords ?? Number.POSITIVE_INFINITY;
    const records: ConsumedRecord[] = [];
    let trimmed = false;
    let batches: ReturnType<typeof decodeBatches>;
    try {
      batches = decodeBatches(answer.bytes);
    } catch (error) {
      throw new FloeClientError(
        "CORRUPT_MESSAGE",
        `the record batches fetched from ${options.topic}-${options.partition} do not decode: ${(error as Error).message}`,
        { cause: error },
      );
    }
    outer: for (const batch of batches) {
      for (const r of batch.records) {
        if (r.offset < options.offset) continue;
        if (records.length >= limit) {
          trimmed = true;
          break outer;
        }
        const headers: Record<string, Buffer | null> = {};
        for (const h of r.headers) headers[h.key] = asBuffer(h.value);
        records.push({
          offset: r.offset,
          timestamp: r.timestamp,
          key: asBuffer(r.key),
          value: asBuffer(r.value),
          headers,
        });
      }
    }
    return {
      topic: options.topic,
      partition: options.partition,
      records,
      nextOffset: trimmed ? records[records.length - 1].offset + 1 : mark("floe-next-offset"),
      highWatermark: mark("floe-high-watermark"),
      logStartOffset: mark("floe-log-start-offset"),
    };
  }

  /**
   * Several partitions in one request (`POST /v1/fetch`): answers once minBytes of records are ready
   * (by default as soon as any partition has one) or maxWaitMs has passed.
   */
  async fetchMany(options: FetchManyOptions): Promise<(PartitionFetch | PartitionFetchError)[]> {
    const answer = await this.transport.request<{ partitions?: unknown[] }>("POST", "/v1/fetch", {
      query: { encoding: "base64" },
      body: {
        partitions: options.partitions,
        maxWaitMs: options.maxWaitMs,
        minBytes: options.minBytes,
        maxBytes: options.maxBytes,
        partitionMaxBytes: options.partitionMaxBytes,
        maxRecords: options.maxRecords,
      },
      signal: options.signal,
      extraTimeoutMs: options.maxWaitMs,
    });
    if (!Array.isArray(answer?.partitions)) {
      throw new FloeClientError("UNKNOWN_SERVER_ERROR", "the server's fetch answer has no partitions list");
    }
    return answer.partitions.map((raw, i) => {
      const asked = options.partitions[i];
      const p = raw as WirePartitionFetch & {
        error?: { code?: string; message?: string; retriable?: boolean };
      };
      const topic = p.topic ?? asked?.topic;
      const partition = p.partition ?? asked?.partition;
      if (p.error) {
        const error = new FloeClientError(
          (p.error.code ?? "UNKNOWN_SERVER_ERROR") as KafkaErrorCode,
          p.error.message ?? "",
          {
            retriable: p.error.retriable === true,
          },
        );
        return { topic, partition, error };
      }
      return toPartitionFetch(topic, partition, p);
    });
  }

  /** Kafka's ListOffsets: the earliest offset, the latest (the high-water mark), or the first at or after a timestamp. */
  async listOffsets(options: { topic: string; partition: number; at: OffsetSpec }): Promise<ListedOffset> {
    const answer = await this.transport.request<ListedOffset>(
      "GET",
      `/v1/topics/${topicSegment(options.topic)}/partitions/${segment(options.partition)}/offsets`,
      { query: { at: String(options.at) } },
    );
    return { partition: answer.partition, offset: answer.offset, timestamp: answer.timestamp ?? null };
  }
}

function toPartitionFetch(topic: string, partition: number, wire: WirePartitionFetch): PartitionFetch {
  if (!Array.isArray(wire?.records)) {
    throw new FloeClientError(
      "UNKNOWN_SERVER_ERROR",
      `the server's fetch answer for ${topic}-${partition} has no records list`,
    );
  }
  return {
    topic,
    partition,
    records: wire.records.map(toRecord),
    nextOffset: wire.nextOffset,
    highWatermark: wire.highWatermark,
    logStartOffset: wire.logStartOffset,
  };
}

/** A zero-copy Buffer over decoded bytes (views of the answer, which nothing else holds). */
function asBuffer(bytes: Uint8Array | null): Buffer | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toRecord(wire: WireRecordOut): ConsumedRecord {
  const headers: Record<string, Buffer | null> = {};
  for (const [name, value] of Object.entries(wire.headers ?? {})) headers[name] = fromWire(value);
  return {
    offset: wire.offset,
    timestamp: wire.timestamp,
    key: fromWire(wire.key),
    value: fromWire(wire.value),
    headers,
  };
}
