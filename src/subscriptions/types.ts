import type { RecordHeader } from "../log/record-batch.js";

/**
 * Push subscriptions (architecture §14, decision 0013): the resource, the delivery settings and the
 * seams between the dispatcher and its targets. Settings are named after what they mirror in
 * Lambda's event source mapping for Kafka and Kinesis, with Lambda's defaults unless a comment says
 * why not.
 */

/** Lambda's event source mapping states, the ones a subscription can be in. */
export type SubscriptionState = "Enabled" | "Disabled" | "Deleting";

/** Where Lambda's StartingPosition says a new subscription begins. */
export type StartingPosition = "LATEST" | "TRIM_HORIZON" | "AT_TIMESTAMP";

export interface HttpTargetConfig {
  type: "http";
  /** http:// or https://; POSTed one JSON batch per delivery. */
  url: string;
  /** How long one POST may take before it counts as failed (default 30000, Kafka's request.timeout.ms). */
  timeoutMs: number;
}

export interface LambdaTargetConfig {
  type: "lambda";
  /** A function name, name:qualifier, or (partial) ARN, as Lambda's Invoke takes it. */
  functionName: string;
  /** How long one synchronous invocation may take (default 900000, Lambda's longest function timeout). */
  timeoutMs: number;
}

export type TargetConfig = HttpTargetConfig | LambdaTargetConfig;

/**
 * An EventBridge-like content filter (Lambda's FilterCriteria.Filters[].Pattern) over a record's
 * `key`, `headers` and `value` (see record-filter.ts for the grammar). A record passes when any
 * pattern matches; with no patterns every record passes.
 */
export type FilterPattern = { [field: string]: unknown };

/** Everything a user sets; what POST takes (defaults applied) and PATCH changes. */
export interface SubscriptionSettings {
  /** Exactly one of topics and topicRegex (an RE2 pattern matched against whole names, as Kafka's). */
  topics: string[] | null;
  topicRegex: string | null;
  target: TargetConfig;
  /** Lambda's BatchSize: most records per delivery (default 100, 1..10000). */
  batchSize: number;
  /** Lambda's MaximumBatchingWindowInSeconds, in ms: how long to gather a batch (default 500, 0..300000). */
  maximumBatchingWindowMs: number;
  /** Lambda's StartingPosition (default LATEST); only read when the subscription is created. */
  startingPosition: StartingPosition;
  /** Lambda's StartingPositionTimestamp in ms since the epoch; required with AT_TIMESTAMP, null otherwise. */
  startingPositionTimestamp: number | null;
  /** Lambda's MaximumRetryAttempts: retries after the first attempt (default -1: until it succeeds; 0..10000). */
  maximumRetryAttempts: number;
  /** Lambda's MaximumRecordAgeInSeconds, in ms (default -1: no limit; 1000..604800000). */
  maximumRecordAgeMs: number;
  /** Lambda's BisectBatchOnFunctionError (default false). */
  bisectBatchOnError: boolean;
  /**
   * Lambda's FunctionResponseTypes ["ReportBatchItemFailures"]. On by default here (Lambda's is off):
   * a target that names failed records means it, and ignoring that would drop them.
   */
  reportBatchItemFailures: boolean;
  /** Lambda's ParallelizationFactor: concurrent batches per partition, order kept per key (default 1, 1..10). */
  parallelizationFactor: number;
  /**
   * Lambda's DestinationConfig.OnFailure for Kafka: the Floe topic a record goes to, with headers
   * saying why, once its retries or age run out. Required when either is finite, so that no record
   * is ever dropped silently.
   */
  onFailureTopic: string | null;
  /** Lambda's FilterCriteria.Filters (at most 10 patterns). Records filtered out are passed over and counted. */
  filters: FilterPattern[];
}

/** A stored subscription. */
export interface Subscription extends SubscriptionSettings {
  name: string;
  state: SubscriptionState;
  /** The consumer group the subscription's offsets live in: `floe-subscription-{name}`. */
  groupId: string;
  /**
   * Standard Webhooks signing secret for an HTTP target (`whsec_` + base64 of 32 random bytes unless
   * given); null for Lambda targets.
   */
  secret: string | null;
  /** A UUID per creation, so a deleted and re-created subscription's webhook ids never repeat. */
  incarnation: string;
  createdAt: number;
  updatedAt: number;
  /** The stored item's version: PATCH may carry it as a precondition. */
  version: number;
}

/** The delivery counters a partition's stats, a subscription's status and a dispatch report carry. */
export interface DeliveryCounts {
  /** Records the target accepted. */
  delivered: number;
  /** Records sent to the on-failure topic. */
  failed: number;
  /** Deliveries attempted again after a failure (every attempt past a batch's first). */
  retried: number;
  /** Records the filters passed over. */
  filtered: number;
}

/** Where one partition's delivery stands, as its dispatcher last wrote it. */
export interface PartitionDeliveryStats extends DeliveryCounts {
  topic: string;
  partition: number;
  /** Timestamp of the first record not yet delivered, when the dispatcher is behind or retrying. */
  oldestUndeliveredTimestamp: number | null;
  lastError: SubscriptionError | null;
  updatedAt: number;
}

export interface SubscriptionError {
  message: string;
  at: number;
  topic: string;
  partition: number;
}

/** The status GET /v1/subscriptions/{name} adds to the definition: the partitions' stats summed. */
export interface SubscriptionStatus extends DeliveryCounts {
  /** Records committed offsets are behind the high-water marks by (the group's lag). */
  lag: number;
  /** now − the oldest undelivered record's timestamp; null when nothing is pending. */
  oldestUndeliveredAgeMs: number | null;
  /** The most recent error of any partition. */
  lastError: SubscriptionError | null;
  partitions: (PartitionDeliveryStats & {
    committedOffset: number | null;
    highWatermark: number;
    lag: number;
  })[];
}

/** One record as a target receives it. */
export interface DeliveryRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

/** What one delivery carries: records of one topic-partition, in offset order. */
export interface DeliveryBatch {
  subscription: Subscription;
  /**
   * The Standard Webhooks message id: the same for every attempt of the same records (so a target
   * can deduplicate a redelivery), derived from the incarnation, topic, partition and offset range.
   */
  messageId: string;
  /** 1 for the first attempt. */
  attempt: number;
  records: DeliveryRecord[];
}

/**
 * What a target said. `partial`: records before `firstFailedOffset` were accepted and it and every
 * later one are retried (the Kinesis and Kafka event sources' checkpoint rule).
 */
export type DeliveryResult =
  | { outcome: "success" }
  | { outcome: "partial"; firstFailedOffset: number; reason: string }
  | {
      outcome: "error";
      reason: string;
      /**
       * The batch could never be sent whole (over Lambda's 6 MB synchronous payload): the dispatcher
       * splits it whatever bisectBatchOnError says, since retrying it unchanged cannot succeed.
       */
      tooLarge?: true;
    };

/** An HTTP endpoint or a Lambda function. Never throws: every failure is an `error` result. */
export interface DeliveryTarget {
  deliver(batch: DeliveryBatch, signal: AbortSignal): Promise<DeliveryResult>;
}

/** Builds the target for a subscription; injected at the edge (dev server, Lambda function). */
export type TargetFactory = (subscription: Subscription) => DeliveryTarget;

/** Per-subscription counters as metrics (EMF in Lambda); optional everywhere. */
export interface DeliveryMetrics {
  count(
    subscription: string,
    name: "RecordsDelivered" | "RecordsFailed" | "DeliveryRetries" | "RecordsFiltered",
    value: number,
  ): void;
  oldestUndeliveredAge(subscription: string, ageMs: number): void;
}

/** A target as a request gives it: timeouts may be left to their defaults. */
export type TargetInput =
  | (Omit<HttpTargetConfig, "timeoutMs"> & { timeoutMs?: number })
  | (Omit<LambdaTargetConfig, "timeoutMs"> & { timeoutMs?: number });

/** What creating a subscription takes: a target and either topics or topicRegex; the rest defaults. */
export type SubscriptionInput = Partial<Omit<SubscriptionSettings, "target">> & {
  target: TargetInput;
  /** A Standard Webhooks secret (`whsec_…`) to sign with, instead of a generated one. */
  secret?: string;
  /** Create it paused (Lambda's Enabled: false). */
  state?: "Enabled" | "Disabled";
};

/** What PATCH changes. The starting position only applies at creation, so it cannot be changed. */
export type SubscriptionChange = Partial<
  Omit<SubscriptionSettings, "target" | "startingPosition" | "startingPositionTimestamp">
> & {
  target?: TargetInput;
  secret?: string;
  state?: "Enabled" | "Disabled";
};

/** What one Dispatcher.runOnce did (the Lambda dispatcher returns it). */
export interface DispatchReport extends DeliveryCounts {
  subscriptions: number;
  /** Partitions left with records still to deliver when the deadline came. */
  pendingPartitions: number;
}
