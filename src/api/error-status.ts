import type { FloeError, KafkaErrorCode } from "../errors.js";

/**
 * The HTTP status each Kafka error code answers with (architecture §8). Total over the code union, so a
 * code added to the error family cannot ship without a status.
 */
const STATUS: Record<KafkaErrorCode, number> = {
  INVALID_TOPIC_EXCEPTION: 400,
  INVALID_PARTITIONS: 400,
  INVALID_CONFIG: 400,
  INVALID_REQUEST: 400,
  INVALID_RECORD: 400,
  INVALID_REGULAR_EXPRESSION: 400,
  CORRUPT_MESSAGE: 400,
  UNSUPPORTED_ENCODING: 400,
  UNSUPPORTED_COMPRESSION_TYPE: 400,
  INVALID_GROUP_ID: 400,
  UNKNOWN_TOPIC_OR_PARTITION: 404,
  ROUTE_NOT_FOUND: 404,
  GROUP_ID_NOT_FOUND: 404,
  RESOURCE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  TOPIC_ALREADY_EXISTS: 409,
  CONCURRENT_TRANSACTIONS: 409,
  FENCED_LEADER_EPOCH: 409,
  NON_EMPTY_GROUP: 409,
  UNKNOWN_MEMBER_ID: 409,
  STALE_MEMBER_EPOCH: 409,
  FENCED_MEMBER_EPOCH: 409,
  UNRELEASED_INSTANCE_ID: 409,
  DUPLICATE_RESOURCE: 409,
  INVALID_UPDATE_VERSION: 409,
  PRODUCER_FENCED: 409,
  INVALID_PRODUCER_EPOCH: 409,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 409,
  UNKNOWN_PRODUCER_ID: 404,
  INVALID_TRANSACTIONAL_ID: 400,
  RECORD_TOO_LARGE: 413,
  MESSAGE_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  OFFSET_OUT_OF_RANGE: 416,
  THROTTLING_QUOTA_EXCEEDED: 429,
  NOT_LEADER_OR_FOLLOWER: 503,
  KAFKA_STORAGE_ERROR: 503,
  NETWORK_EXCEPTION: 503,
  REQUEST_TIMED_OUT: 503,
  UNKNOWN_SERVER_ERROR: 500,
};

/** Server-side conditions that still deserve their 4xx: the client can act on them by retrying. */
const SERVER_FAULT_KEEPS_STATUS = new Set<KafkaErrorCode>([
  "CONCURRENT_TRANSACTIONS",
  "THROTTLING_QUOTA_EXCEEDED",
]);

/** The status a code answers with when the client is at fault. */
export function statusForCode(code: KafkaErrorCode): number {
  return STATUS[code] ?? 500;
}

export function statusForError(error: FloeError): number {
  const status = statusForCode(error.code);
  if (error.fault !== "server" || SERVER_FAULT_KEEPS_STATUS.has(error.code)) return status;
  // A server fault is never the client's 4xx (e.g. a segment that fails its CRC on read), and only
  // a fault a retry may cure is a 503.
  if (status < 500) return error.retriable ? 503 : 500;
  if (status === 503 && !error.retriable) return 500;
  return status;
}
