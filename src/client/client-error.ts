import { type KafkaErrorCode, FloeError } from "../errors.js";

/**
 * An error as the client sees it: the server's Kafka error code, message and retriable flag when
 * the server answered, plus the HTTP status (absent when it never answered). Extends FloeError so
 * `isFloeError` and `err.code` work the same on both sides of the wire.
 */
export class FloeClientError extends FloeError {
  /** The HTTP status of the refusal; undefined when the request never got an answer. */
  readonly status: number | undefined;

  constructor(
    code: KafkaErrorCode,
    message: string,
    options: { retriable?: boolean; status?: number; cause?: unknown } = {},
  ) {
    const status = options.status;
    super(code, message, {
      retriable: options.retriable ?? false,
      fault: status !== undefined && status >= 400 && status < 500 && status !== 429 ? "client" : "server",
      cause: options.cause,
    });
    this.status = status;
  }
}

/** Kafka's name for a failed connection. */
export const NETWORK_EXCEPTION: KafkaErrorCode = "NETWORK_EXCEPTION";

/** 429 and 503 mean "try again later" whatever the body says; Kafka's throttling and not-available errors are retriable too. */
export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 503;
}

/** Builds the error from a non-2xx answer, trusting the §8 error body when there is one. */
export function errorFromResponse(status: number, statusText: string, body: unknown): FloeClientError {
  const detail = (body as { error?: { code?: unknown; message?: unknown; retriable?: unknown } } | null)
    ?.error;
  if (detail && typeof detail.code === "string") {
    return new FloeClientError(
      detail.code as KafkaErrorCode,
      typeof detail.message === "string" ? detail.message : `HTTP ${status}`,
      { status, retriable: detail.retriable === true || isRetriableStatus(status) },
    );
  }
  // Not a Floe answer (a proxy, a load balancer, a wrong URL): say what came back.
  const code: KafkaErrorCode = status === 404 ? "ROUTE_NOT_FOUND" : "UNKNOWN_SERVER_ERROR";
  const retriable = isRetriableStatus(status) || status === 502 || status === 504;
  return new FloeClientError(code, `HTTP ${status}${statusText ? ` ${statusText}` : ""} from server`, {
    status,
    retriable,
  });
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  EPIPE: "connection closed",
  UND_ERR_SOCKET: "connection closed by the server",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  UND_ERR_HEADERS_TIMEOUT: "no response headers in time",
  UND_ERR_BODY_TIMEOUT: "response body stalled",
};

/** The socket-level code buried in a fetch failure (undici wraps it in `cause`, sometimes in an AggregateError). */
function socketCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const candidate = current as { code?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof candidate.code === "string" && candidate.code in SOCKET_ERRORS) return candidate.code;
    const nested = candidate.errors?.find((e) => typeof (e as { code?: unknown })?.code === "string");
    if (nested) return (nested as { code: string }).code;
    current = candidate.cause;
  }
  return undefined;
}

/** fetch says only "fetch failed"; the cause says why (e.g. "bad port" for ports fetch refuses to use). */
function innermostMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let cause = (error as { cause?: unknown })?.cause, depth = 0; cause && depth < 4; depth++) {
    if (cause instanceof Error && cause.message) message = cause.message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}

/** A request that never got an answer: the server is down, restarting, or the URL is wrong. Always retriable. */
export function networkError(baseUrl: string, error: unknown): FloeClientError {
  const code = socketCode(error);
  const reason = code ? (SOCKET_ERRORS[code] ?? code) : innermostMessage(error);
  return new FloeClientError(NETWORK_EXCEPTION, `cannot reach Floe at ${baseUrl}: ${reason}`, {
    retriable: true,
    cause: error,
  });
}

export function timeoutError(baseUrl: string, timeoutMs: number, cause: unknown): FloeClientError {
  return new FloeClientError(
    "REQUEST_TIMED_OUT",
    `no answer from Floe at ${baseUrl} within ${timeoutMs} ms`,
    {
      retriable: true,
      cause,
    },
  );
}
