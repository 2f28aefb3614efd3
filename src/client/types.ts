import type { BytesLike } from "./bytes.js";

/** A record to produce, shaped like KafkaJS's Message. */
export interface Message {
  key?: BytesLike | null;
  /** null is a tombstone. */
  value: BytesLike | null;
  /** Header values are bytes; null is a header with no value, as Kafka allows. */
  headers?: Record<string, BytesLike | null>;
  /** Explicit partition; otherwise the server partitions by key (murmur2, as Kafka) or spreads keyless records. */
  partition?: number;
  /** Milliseconds since the epoch (a number, a numeric string as in KafkaJS, or a Date); the server's clock when absent. */
  timestamp?: number | string | Date;
}

export interface ProducerRecord {
  topic: string;
  messages: Message[];
}

/** Where one message landed. */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** A record as read back: bytes exactly as produced. */
export interface ConsumedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null>;
}

export interface PartitionFetch {
  topic: string;
  partition: number;
  records: ConsumedRecord[];
  /** The offset to ask for next. */
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export interface PartitionDescription {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  bytes: number;
  leaderEpoch: number;
  /** The maintenance worker holding the partition's lease, if any. */
  leaseOwner: string | null;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  partitions: PartitionDescription[];
  /** Effective config: the overrides over Kafka's defaults. */
  config: Record<string, string | number>;
  /** Only what was set on this topic. */
  configOverrides?: Record<string, string | number>;
  /** Milliseconds since the epoch. */
  createdAt?: number;
}

export type OffsetSpec = "earliest" | "latest" | number;

export interface ListedOffset {
  partition: number;
  offset: number;
  /** The timestamp of the record found by a timestamp query; null otherwise or when none was found. */
  timestamp: number | null;
}

/** The §8 wire shapes with `encoding=base64`. */
export interface WireRecordIn {
  key?: string | null;
  value: string | null;
  headers?: Record<string, string | null>;
  partition?: number;
  timestamp?: number;
}

export interface WireRecordOut {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers?: Record<string, string | null> | null;
}

export interface WirePartitionFetch {
  topic?: string;
  partition?: number;
  records: WireRecordOut[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}
