/**
 * One error family for the whole bus, shaped like the AWS SDK v3's: a `name` (here Kafka's error
 * code, so a Kafka user recognises it), which side is at fault, whether a retry may succeed, and
 * the original `cause` kept. The HTTP layer maps codes to statuses; nothing else needs to.
 */
export type KafkaErrorCode =
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "TOPIC_ALREADY_EXISTS"
  | "INVALID_TOPIC_EXCEPTION"
  | "INVALID_PARTITIONS"
  | "INVALID_CONFIG"
  | "INVALID_REQUEST"
  | "INVALID_RECORD"
  | "INVALID_REGULAR_EXPRESSION"
  | "CORRUPT_MESSAGE"
  | "RECORD_TOO_LARGE"
  | "MESSAGE_TOO_LARGE"
  | "OFFSET_OUT_OF_RANGE"
  | "UNSUPPORTED_ENCODING"
  | "UNSUPPORTED_COMPRESSION_TYPE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "NOT_LEADER_OR_FOLLOWER"
  | "FENCED_LEADER_EPOCH"
  | "CONCURRENT_TRANSACTIONS"
  | "THROTTLING_QUOTA_EXCEEDED"
  | "REQUEST_TIMED_OUT"
  | "KAFKA_STORAGE_ERROR"
  | "NETWORK_EXCEPTION"
  | "UNKNOWN_SERVER_ERROR"
  | "PRODUCER_FENCED"
  | "INVALID_PRODUCER_EPOCH"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "UNKNOWN_PRODUCER_ID"
  | "INVALID_TRANSACTIONAL_ID"
  | "GROUP_ID_NOT_FOUND"
  | "NON_EMPTY_GROUP"
  | "UNKNOWN_MEMBER_ID"
  | "STALE_MEMBER_EPOCH"
  | "FENCED_MEMBER_EPOCH"
  | "INVALID_GROUP_ID"
  | "UNRELEASED_INSTANCE_ID"
  | "RESOURCE_NOT_FOUND"
  | "DUPLICATE_RESOURCE"
  | "INVALID_UPDATE_VERSION"
  | "ROUTE_NOT_FOUND"
  | "METHOD_NOT_ALLOWED";

export type Fault = "client" | "server";

export interface FloeErrorOptions {
  retriable?: boolean;
  fault?: Fault;
  cause?: unknown;
}

export class FloeError extends Error {
  readonly code: KafkaErrorCode;
  readonly retriable: boolean;
  readonly fault: Fault;

  constructor(code: KafkaErrorCode, message: string, options: FloeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.fault = options.fault ?? "client";
  }

  toJSON(): { code: KafkaErrorCode; message: string; retriable: boolean } {
    return { code: this.code, message: this.message, retriable: this.retriable };
  }
}

/** Bytes that do not decode: a truncated object, a flipped bit, a foreign file. */
export class CorruptDataError extends FloeError {
  constructor(message: string, options: FloeErrorOptions = {}) {
    super("CORRUPT_MESSAGE", message, { fault: "server", ...options });
  }
}

/**
 * A conditional metadata write lost a race. Retriable by design: the optimistic protocols above
 * the MetaStore re-read and try again.
 */
export class ConditionFailedError extends FloeError {
  /** Indexes of the operations whose condition failed, where the backend reports them. */
  readonly failedIndexes: number[];
  constructor(message: string, failedIndexes: number[] = [], options: FloeErrorOptions = {}) {
    super("CONCURRENT_TRANSACTIONS", message, { retriable: true, fault: "server", ...options });
    this.failedIndexes = failedIndexes;
  }
}

/** The storage underneath failed or is unreachable (S3, DynamoDB, disk). */
export class StorageError extends FloeError {
  constructor(message: string, options: FloeErrorOptions = {}) {
    super("KAFKA_STORAGE_ERROR", message, { retriable: true, fault: "server", ...options });
  }
}

export function isFloeError(e: unknown): e is FloeError {
  return e instanceof FloeError;
}

/** A read of an object that does not exist: never retriable, the key is wrong or was collected. */
export class ObjectNotFoundError extends StorageError {
  constructor(key: string, options: FloeErrorOptions = {}) {
    super(`object not found: ${key}`, { retriable: false, ...options });
  }
}
