/** Classifies AWS SDK v3 errors for the S3 and DynamoDB adapters. */
import { FloeError, StorageError } from "../errors.js";

/** Error names AWS services use for throttling; all worth a retry after backing off. */
const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "PriorRequestNotComplete",
  "EC2ThrottledException",
]);

/** Transient network failures that surface without an HTTP response. */
const NETWORK = new Set([
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: "client" | "server";
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorName(e: unknown): string {
  if (typeof e !== "object" || e === null) return "";
  const shape = e as AwsErrorShape;
  return shape.name ?? shape.code ?? "";
}

export function httpStatusOf(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  return (e as AwsErrorShape).$metadata?.httpStatusCode;
}

/**
 * Whether a retry may succeed: the SDK marked it `$retryable`, the service took the fault, the
 * status is 5xx or 429, it is a throttling error, or the connection failed before a response.
 */
export function isRetriableAwsError(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const shape = e as AwsErrorShape;
  if (shape.$retryable) return true;
  if (shape.$fault === "server") return true;
  const status = shape.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  const name = awsErrorName(e);
  if (THROTTLING.has(name) || NETWORK.has(name)) return true;
  return shape.code !== undefined && NETWORK.has(shape.code);
}

/** Wraps any SDK error as a StorageError, keeping it as `cause`. */
export function toStorageError(e: unknown, what: string): FloeError {
  if (e instanceof FloeError) return e;
  const name = awsErrorName(e);
  const message = e instanceof Error ? e.message : String(e);
  return new StorageError(`${what} failed: ${name ? `${name}: ` : ""}${message}`, {
    retriable: isRetriableAwsError(e),
    cause: e,
  });
}
