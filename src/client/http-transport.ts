import type { KafkaErrorCode } from "../errors.js";
import { errorFromResponse, FloeClientError, networkError, timeoutError } from "./client-error.js";
import { abortableSleep, backoffMs, type RetryHooks, type RetryPolicy, withRetry } from "./retry.js";

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

/**
 * How records travel: `binary` (the default) sends and receives Kafka RecordBatch v2 bytes;
 * `json` uses the JSON routes with base64 values, as curl and humans do.
 */
export type WireProtocol = "binary" | "json";

/** The server's binary fast-path media type (src/api/routes/record-batch-media.ts; the client shares only the contract). */
export const RECORD_BATCH_MEDIA_TYPE = "application/vnd.kafka.record-batch.v2";

export interface TransportOptions {
  url: string;
  fetch: FetchFn;
  retry: RetryPolicy;
  /** Kafka's request.timeout.ms: how long one attempt may wait for its answer (plus any long-poll wait). */
  requestTimeoutMs: number;
  /** For tests: a sleep and a random source that make backoff deterministic. */
  hooks?: Omit<RetryHooks, "signal">;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** Added to the request timeout: a long-poll is expected to be slow by this much. */
  extraTimeoutMs?: number;
  retry?: RetryPolicy;
}

/** A request whose body or answer is bytes (the binary fast path); errors still come back as JSON. */
export interface BinaryRequestOptions {
  query?: Record<string, string | number | undefined>;
  body?: Uint8Array;
  /** The body's media type. */
  contentType?: string;
  /** The media types the caller takes, in preference order (an Accept header value). */
  accept: string;
  signal?: AbortSignal;
  extraTimeoutMs?: number;
  retry?: RetryPolicy;
}

export interface BinaryAnswer {
  /** The answer's media type, lower-cased, without parameters. */
  mediaType: string;
  headers: Headers;
  bytes: Buffer;
}

/** JSON over HTTP per architecture §8, with the error body turned into a FloeClientError and retries on retriable failures. */
export class HttpTransport {
  readonly baseUrl: string;

  constructor(private readonly options: TransportOptions) {
    this.baseUrl = normaliseUrl(options.url);
  }

  /** Waits before retry number `attempt` (0-based) as request() would: for callers that retry themselves. */
  backoff(policy: RetryPolicy, attempt: number): Promise<void> {
    const sleep = this.options.hooks?.sleep ?? abortableSleep;
    return sleep(backoffMs(policy, attempt, this.options.hooks?.random));
  }

  request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.baseUrl + path + queryString(options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    return withRetry(options.retry ?? this.options.retry, () => this.once<T>(method, url, body, options), {
      ...this.options.hooks,
      signal: options.signal,
    });
  }

  /** Like request(), but the body goes and the answer comes back as bytes with their media type. */
  exchange(method: string, path: string, options: BinaryRequestOptions): Promise<BinaryAnswer> {
    const url = this.baseUrl + path + queryString(options.query);
    const headers: Record<string, string> = { accept: options.accept };
    if (options.body !== undefined)
      headers["content-type"] = options.contentType ?? "application/octet-stream";
    return withRetry(
      options.retry ?? this.options.retry,
      async () => {
        const { response, body } = await this.send(method, url, { headers, body: options.body }, options);
        if (!response.ok) {
          const parsed = parseJson(body.toString("utf8"));
          throw errorFromResponse(response.status, response.statusText, parsed.ok ? parsed.value : null);
        }
        const mediaType = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
        return { mediaType, headers: response.headers, bytes: body };
      },
      { ...this.options.hooks, signal: options.signal },
    );
  }

  private async once<T>(
    method: string,
    url: string,
    body: string | undefined,
    options: RequestOptions,
  ): Promise<T> {
    const { response, body: answer } = await this.send(
      method,
      url,
      {
        headers:
          body === undefined
            ? { accept: "application/json" }
            : { "content-type": "application/json", accept: "application/json" },
        body,
      },
      options,
    );
    const text = answer.toString("utf8");
    const parsed = parseJson(text);
    if (!response.ok)
      throw errorFromResponse(response.status, response.statusText, parsed.ok ? parsed.value : null);
    if (text === "") return undefined as T;
    if (!parsed.ok) {
      throw new FloeClientError(
        "UNKNOWN_SERVER_ERROR",
        `the server at ${this.baseUrl} answered with something other than JSON`,
        {
          status: response.status,
        },
      );
    }
    return parsed.value as T;
  }

  /** One attempt: the answer and its whole body, or the failure to get one as a FloeClientError. */
  private async send(
    method: string,
    url: string,
    init: { headers: Record<string, string>; body: string | Uint8Array | undefined },
    options: { signal?: AbortSignal; extraTimeoutMs?: number },
  ): Promise<{ response: Response; body: Buffer }> {
    const timeoutMs = this.options.requestTimeoutMs + (options.extraTimeoutMs ?? 0);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const response = await this.options.fetch(url, {
        method,
        headers: init.headers,
        body: init.body,
        signal,
      });
      return { response, body: Buffer.from(await response.arrayBuffer()) };
    } catch (error) {
      // The caller's own abort is theirs to handle; it is not a failure of the server.
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw timeoutError(this.baseUrl, timeoutMs, error);
      throw networkError(this.baseUrl, error);
    }
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === "") return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function queryString(query: RequestOptions["query"]): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
  const s = params.toString();
  return s ? `?${s}` : "";
}

/** Checks the URL up front so a typo fails with a message instead of a TypeError from deep inside fetch. */
export function normaliseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FloeClientError(
      "INVALID_CONFIG",
      `invalid Floe URL "${url}": expected something like http://127.0.0.1:8092`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new FloeClientError(
      "INVALID_CONFIG",
      `invalid Floe URL "${url}": only http:// and https:// are supported`,
    );
  }
  return parsed.href.replace(/\/+$/, "");
}

/**
 * One path segment, escaped: topic names are restricted, but the client should not rely on that.
 * "." and ".." cannot be carried at all: `new URL`, and so fetch, resolves them (and their %2E
 * spellings) as relative steps, so they would address another resource (`/v1/topics/.` is the
 * topic list). They are refused here, before any request, with `code`.
 */
export function segment(
  value: string | number,
  code: KafkaErrorCode = "INVALID_REQUEST",
  what = "path segment",
): string {
  const text = String(value);
  if (text === "." || text === "..") {
    throw new FloeClientError(
      code,
      `invalid ${what} ${JSON.stringify(text)}: "." and ".." cannot name a resource`,
    );
  }
  return encodeURIComponent(text);
}

/** A topic name as a path segment; "." and ".." are INVALID_TOPIC_EXCEPTION, as Kafka refuses them. */
export function topicSegment(topic: string): string {
  return segment(topic, "INVALID_TOPIC_EXCEPTION", "topic name");
}

/** A group id as a path segment; "." and ".." cannot travel in a URL path (see segment). */
export function groupSegment(groupId: string): string {
  return segment(groupId, "INVALID_GROUP_ID", "group id");
}
