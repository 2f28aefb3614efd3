import type { FloeError } from "../errors.js";
import type { RecordHeader } from "../log/record-batch.js";
import type { TopicConfig } from "./topic-config.js";

export interface Topic {
  name: string;
  topicId: string;
  partitions: number;
  /** Only the overrides the user set; effective values are these over Kafka's defaults. */
  configOverrides: Partial<TopicConfig>;
  config: TopicConfig;
  createdAt: number;
  /** MetaStore version of the topic item: appends are conditional on it, so a topic deleted or changed mid-append fences the append. */
  version: number;
}

export interface PartitionHead {
  /** The high-water mark: the offset the next record will get. */
  next: number;
  logStart: number;
  leaderEpoch: number;
  bytes: number;
  leaseOwner: string | null;
  leaseExpiry: number | null;
  /** MetaStore version; 0 when the head item does not exist yet (an empty partition). */
  version: number;
}

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  bytes: number;
  /** Grows by one each time a maintenance worker takes the partition's lease. */
  leaderEpoch: number;
  /** Who holds the partition's lease now; null when nobody does or it has lapsed. */
  leaseOwner: string | null;
  /** When the current lease lapses unless renewed; null when nobody holds it. */
  leaseExpiry: number | null;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  partitions: PartitionDescription[];
  config: TopicConfig;
  configOverrides: Partial<TopicConfig>;
  createdAt: number;
}

export interface ProduceRecord {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  partition?: number;
  /** Milliseconds since the epoch; the broker's clock when absent. */
  timestamp?: number;
}

/**
 * When an append must give up (decision 0008): past its deadline or once its caller has gone, it
 * stops before its commit, so a request answered with a timeout never appends later.
 */
export interface AppendControl {
  /** Milliseconds since the epoch (the broker's clock); the broker's request.timeout.ms bounds it too. */
  deadline?: number;
  /** Aborted when the caller stopped waiting (the HTTP connection closed, the invocation ends). */
  signal?: AbortSignal;
}

/** The idempotent producer's fields on a JSON produce (the binary path carries them in each batch). */
export interface ProducerFields {
  producerId: number;
  producerEpoch: number;
  /** The base sequence of this request's records for each partition they go to, every one listed. */
  sequences: { partition: number; baseSequence: number }[];
}

export interface ProduceRequest extends AppendControl {
  topic: string;
  records: ProduceRecord[];
  producer?: ProducerFields;
}

export interface RecordOffset {
  partition: number;
  offset: number;
}

/** A record of a request whose partition failed while others committed (a wide request, §3). */
export interface RecordFailure {
  partition: number;
  error: FloeError;
}

export type RecordOutcome = RecordOffset | RecordFailure;

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
  /** Default 500 (Kafka's max.poll.records). */
  maxRecords?: number;
  /**
   * Default 1 MiB (fetch.max.bytes is 50 MiB; max.partition.fetch.bytes is 1 MiB), counted as the
   * records' (or the binary path's batches') size on the wire, and never above what the front door
   * carries (MAX_FETCH_ANSWER_BYTES; MAX_RAW_FETCH_ANSWER_BYTES for batches). Always at least one
   * record (one batch).
   */
  maxBytes?: number;
  /** Long-poll at the high-water mark for up to this long (fetch.max.wait.ms). */
  maxWaitMs?: number;
  /** Aborted when the caller went away: the long-poll then ends at its next wake-up. */
  signal?: AbortSignal;
}

export interface FetchedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  /**
   * The record's size on the wire, as Kafka encodes it inside its batch (DefaultRecord.sizeInBytes,
   * at least 7 bytes): what it counts against a fetch's maxBytes. Set by the broker's fetch;
   * `recordBytes` works it out from the fields when absent.
   */
  size?: number;
}

export interface FetchResult {
  topic: string;
  partition: number;
  records: FetchedRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

/** `maxTimestamp`: the record with the largest timestamp (Kafka's ListOffsets -3, KIP-734). */
export type OffsetSpec = "earliest" | "latest" | "maxTimestamp" | { timestamp: number };

export interface ListedOffset {
  partition: number;
  offset: number;
  /** The found record's timestamp for a timestamp query; null when none is at or after it (offset is then the high-water mark, as kafka-consumer-groups --to-datetime does). */
  timestamp: number | null;
}
