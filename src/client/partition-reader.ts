import { fromWire } from "./bytes.js";
import { FloeClientError } from "./client-error.js";
import { type HttpTransport, segment } from "./http-transport.js";
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
  partitions: { topic: string; partition: number; offset: number }[];
  maxWaitMs?: number;
  /** Across all partitions. */
  maxBytes?: number;
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
 * header values come back as Buffers holding exactly the bytes that were produced.
 */
export class PartitionReader {
  constructor(private readonly transport: HttpTransport) {}

  async fetch(options: FetchOptions): Promise<PartitionFetch> {
    const answer = await this.transport.request<WirePartitionFetch>(
      "GET",
      `/v1/topics/${segment(options.topic)}/partitions/${segment(options.partition)}/records`,
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

  /** Several partitions in one request (`POST /v1/fetch`); answers as soon as any has records. */
  async fetchMany(options: FetchManyOptions): Promise<(PartitionFetch | PartitionFetchError)[]> {
    const answer = await this.transport.request<{ partitions?: unknown[] }>("POST", "/v1/fetch", {
      query: { encoding: "base64" },
      body: {
        partitions: options.partitions,
        maxWaitMs: options.maxWaitMs,
        maxBytes: options.maxBytes,
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
      `/v1/topics/${segment(options.topic)}/partitions/${segment(options.partition)}/offsets`,
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
