import type { TopicPartitions } from "../groups/types.js";
import type { ConsumedRecord } from "./types.js";

export type { TopicPartitions };

/** Kafka's auto.offset.reset: where a partition without a committed offset (or past the log) starts. */
export type OffsetReset = "earliest" | "latest";

/** Awaited around every change of what this consumer owns, like Java's ConsumerRebalanceListener. */
export interface RebalanceListener {
  /** After the partitions are taken and their positions known, before any of their records is delivered. */
  onPartitionsAssigned?(partitions: TopicPartitions[]): Promise<void> | void;
  /**
   * Before the partitions are given up: their records are no longer delivered and, with autoCommit,
   * their positions are already committed. A manual-commit consumer commits here.
   */
  onPartitionsRevoked?(partitions: TopicPartitions[]): Promise<void> | void;
  /** The group moved on without us (fenced, or the session expired): committing is no longer possible. */
  onPartitionsLost?(partitions: TopicPartitions[]): Promise<void> | void;
}

export interface ConsumerConfig {
  /** Kafka's group.id. */
  groupId: string;
  /** Kafka's client.id, shown by floe groups describe. */
  clientId?: string;
  /**
   * How long heartbeats may fail before this consumer assumes the coordinator has expired it and
   * gives its partitions up as lost; match the server's group.consumer.session.timeout.ms.
   * Default 45000.
   */
  sessionTimeout?: number;
  /** How often to heartbeat; default the interval the coordinator asks for (group.consumer.heartbeat.interval.ms). */
  heartbeatInterval?: number;
  /** Kafka's max.poll.interval.ms: how long a revocation may take before the coordinator gives up on us. Default the server's (300000). */
  rebalanceTimeout?: number;
  /** Shorthand for autoOffsetReset "earliest". */
  fromBeginning?: boolean;
  /** Default "latest", as Kafka's auto.offset.reset. */
  autoOffsetReset?: OffsetReset;
  /**
   * Kafka's fetch.min.bytes: record bytes a fetch waits to gather across its partitions, for up to
   * fetchMaxWaitMs. Default 1 (answer as soon as any partition has a record); 0 never waits. The
   * server counts a record's key, value and headers plus 20 bytes.
   */
  fetchMinBytes?: number;
  /** Kafka's fetch.max.wait.ms: how long a fetch waits at the end of the log. Default 500. */
  fetchMaxWaitMs?: number;
  /**
   * Kafka's max.partition.fetch.bytes: record bytes per partition per fetch, within fetchMaxBytes.
   * Default 1048576. As in Kafka, the first partition with records returns its first record even
   * when larger, so a big record still comes.
   */
  maxPartitionFetchBytes?: number;
  /**
   * Kafka's fetch.max.bytes: record bytes per fetch across partitions, and so the most one
   * prefetched fetch holds. Default 52428800; the server caps a fetch at 4 MiB.
   */
  fetchMaxBytes?: number;
  /** KafkaJS's name for fetchMaxWaitMs (KafkaJS defaults to 5000; Floe to Kafka's 500). */
  maxWaitTimeInMs?: number;
  /** KafkaJS's name for fetchMaxBytes. */
  maxBytes?: number;
  /** KafkaJS's name for fetchMinBytes. */
  minBytes?: number;
  /** KafkaJS's name for maxPartitionFetchBytes. */
  maxBytesPerPartition?: number;
  /** Records per partition per fetch; default 500 (max.poll.records). */
  maxRecords?: number;
  rebalanceListener?: RebalanceListener;
}

export interface SubscribeOptions {
  topic?: string | RegExp;
  topics?: (string | RegExp)[];
  /** auto.offset.reset "earliest" for these topics. */
  fromBeginning?: boolean;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumedRecord;
  /** Heartbeats run in the background; kept for KafkaJS code that calls it. */
  heartbeat(): Promise<void>;
  /** Pauses this partition after this message; the returned function resumes it. */
  pause(): () => void;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: number;
  messages: ConsumedRecord[];
  isEmpty(): boolean;
  firstOffset(): number | null;
  lastOffset(): number;
  /** Records after this batch up to the high-water mark. */
  offsetLag(): number;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks this message and everything before it in the partition as processed. */
  resolveOffset(offset: number): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  /** Commits processed positions now if autoCommit's interval or threshold is due. */
  commitOffsetsIfNecessary(): Promise<void>;
  isRunning(): boolean;
  /** True once the partition was revoked, paused or sought: stop working on this batch. */
  isStale(): boolean;
}

export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>;
  eachBatch?: (payload: EachBatchPayload) => Promise<void>;
  /** Resolve a whole batch when eachBatch returns. Default true. */
  eachBatchAutoResolve?: boolean;
  /** Commit processed positions in the background. Default true. */
  autoCommit?: boolean;
  /** Kafka's auto.commit.interval.ms. Default 5000. */
  autoCommitInterval?: number;
  /** Also commit once this many records were processed since the last commit. */
  autoCommitThreshold?: number;
  /** Partitions handled at once; records of one partition are always handled in order. Default 1. */
  partitionsConsumedConcurrently?: number;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next record to read: the last processed offset + 1. */
  offset: number | string;
  metadata?: string | null;
}

export interface ConsumerEvents {
  "consumer.connect": Record<string, never>;
  "consumer.disconnect": Record<string, never>;
  "consumer.stop": Record<string, never>;
  /** Each heartbeat answer that changed the member's epoch or assignment. */
  "consumer.group_join": {
    groupId: string;
    memberId: string;
    memberEpoch: number;
    memberAssignment: TopicPartitions[];
  };
  "consumer.heartbeat": { groupId: string; memberId: string; memberEpoch: number };
  /** The coordinator took partitions away; they are being finished and committed. */
  "consumer.rebalancing": { groupId: string; memberId: string; revoking: TopicPartitions[] };
  "consumer.partitions_assigned": { groupId: string; partitions: TopicPartitions[] };
  "consumer.partitions_revoked": { groupId: string; partitions: TopicPartitions[] };
  "consumer.partitions_lost": { groupId: string; partitions: TopicPartitions[] };
  "consumer.commit_offsets": {
    groupId: string;
    memberId: string | null;
    memberEpoch: number | null;
    topics: { topic: string; partitions: { partition: number; offset: number }[] }[];
  };
  /** A failure: of a handler (the record is redelivered), or of the consumer's own work. restart false means it stopped. */
  "consumer.crash": { groupId: string; error: Error; restart: boolean };
}

export type ConsumerEventName = keyof ConsumerEvents;

export interface ConsumerEvent<E extends ConsumerEventName> {
  type: E;
  timestamp: number;
  payload: ConsumerEvents[E];
}
