import { type FloeError, isFloeError, type KafkaErrorCode } from "../errors.js";

/**
 * Kafka's numeric error codes for the names Floe uses, plus the ones only the wire protocol needs
 * (coordinator and classic-group answers). Numbers are Kafka's (org.apache.kafka.common.protocol.Errors).
 */
export const ERROR_NUMBERS = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  INVALID_TOPIC_EXCEPTION: 17,
  RECORD_LIST_TOO_LARGE: 18,
  INVALID_REQUIRED_ACKS: 21,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  INVALID_TIMESTAMP: 32,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  POLICY_VIOLATION: 44,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
  INVALID_TXN_STATE: 48,
  CONCURRENT_TRANSACTIONS: 51,
  KAFKA_STORAGE_ERROR: 56,
  UNKNOWN_PRODUCER_ID: 59,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  FENCED_LEADER_EPOCH: 74,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  OFFSET_NOT_AVAILABLE: 78,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  INVALID_RECORD: 87,
  THROTTLING_QUOTA_EXCEEDED: 89,
  PRODUCER_FENCED: 90,
  RESOURCE_NOT_FOUND: 91,
  DUPLICATE_RESOURCE: 92,
  INVALID_UPDATE_VERSION: 95,
  UNKNOWN_TOPIC_ID: 100,
  INCONSISTENT_TOPIC_ID: 103,
  FENCED_MEMBER_EPOCH: 110,
  UNRELEASED_INSTANCE_ID: 111,
  UNSUPPORTED_ASSIGNOR: 112,
  STALE_MEMBER_EPOCH: 113,
  MISMATCHED_ENDPOINT_TYPE: 114,
  UNSUPPORTED_ENDPOINT_TYPE: 115,
  INVALID_REGULAR_EXPRESSION: 128,
} as const;

export type WireErrorName = keyof typeof ERROR_NUMBERS;

/** Floe's error names that have no Kafka number (HTTP routing) answer as Kafka's nearest. */
const NEAREST: Partial<Record<KafkaErrorCode, WireErrorName>> = {
  RECORD_TOO_LARGE: "MESSAGE_TOO_LARGE",
  UNSUPPORTED_ENCODING: "INVALID_REQUEST",
  UNSUPPORTED_MEDIA_TYPE: "INVALID_REQUEST",
  ROUTE_NOT_FOUND: "INVALID_REQUEST",
  METHOD_NOT_ALLOWED: "INVALID_REQUEST",
  INVALID_TRANSACTIONAL_ID: "INVALID_REQUEST",
};

/**
 * A refusal only the wire protocol names (INVALID_REPLICATION_FACTOR, UNKNOWN_TOPIC_ID,
 * INVALID_TXN_STATE, MISMATCHED_ENDPOINT_TYPE…): Floe's error family has no such code because
 * nothing but a Kafka request can cause it.
 */
export class WireRefusal extends Error {
  constructor(
    readonly code: WireErrorName,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/** The wire error number for any error; anything that is neither a FloeError nor a WireRefusal is UNKNOWN_SERVER_ERROR. */
export function errorNumber(error: unknown): number {
  if (error instanceof WireRefusal) return ERROR_NUMBERS[error.code];
  if (!isFloeError(error)) return ERROR_NUMBERS.UNKNOWN_SERVER_ERROR;
  return numberOfCode((error as FloeError).code);
}

export function numberOfCode(code: KafkaErrorCode | WireErrorName): number {
  const direct = (ERROR_NUMBERS as Record<string, number>)[code];
  if (direct !== undefined) return direct;
  const nearest = NEAREST[code as KafkaErrorCode];
  return nearest ? ERROR_NUMBERS[nearest] : ERROR_NUMBERS.UNKNOWN_SERVER_ERROR;
}

/** The message Kafka's newer responses carry next to a code (null when there is nothing to say). */
export function errorMessage(error: unknown): string | null {
  return error instanceof Error ? error.message : null;
}
