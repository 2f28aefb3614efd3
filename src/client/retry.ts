import { FloeError } from "../errors.js";

/**
 * KafkaJS's option names with the Java client's defaults: retry.backoff.ms=100 and
 * retry.backoff.max.ms=1000, doubling, ±20% jitter. `retries` is bounded (5) instead of Kafka's
 * effectively-infinite delivery retries because an HTTP caller usually prefers an error it can act on
 * within a couple of seconds to a send that hangs for delivery.timeout.ms (2 minutes).
 */
export interface RetryOptions {
  /** Attempts after the first; 0 disables retrying. Default 5. */
  retries?: number;
  /** Backoff before the first retry, in ms. Default 100 (retry.backoff.ms). */
  initialRetryTime?: number;
  /** Upper bound of one backoff, in ms. Default 1000 (retry.backoff.max.ms). */
  maxRetryTime?: number;
}

export interface RetryPolicy {
  retries: number;
  initialRetryTime: number;
  maxRetryTime: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 };

/** Kafka's CommonClientConfigs.RETRY_BACKOFF_JITTER. */
const JITTER = 0.2;

export function retryPolicy(
  options: RetryOptions | undefined,
  base: RetryPolicy = DEFAULT_RETRY,
): RetryPolicy {
  return {
    retries: Math.max(0, options?.retries ?? base.retries),
    initialRetryTime: Math.max(0, options?.initialRetryTime ?? base.initialRetryTime),
    maxRetryTime: Math.max(0, options?.maxRetryTime ?? base.maxRetryTime),
  };
}

/** The wait before retry number `attempt` (0-based): exponential, capped, jittered. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxRetryTime, policy.initialRetryTime * 2 ** attempt);
  const jitter = 1 + JITTER * (2 * random() - 1);
  return Math.max(0, Math.round(exponential * jitter));
}

/** Only a failure that says a retry may succeed is retried; a refusal would only be refused again. */
export function isRetriable(error: unknown): boolean {
  return error instanceof FloeError && error.retriable;
}

export interface RetryHooks {
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  signal?: AbortSignal;
}

export async function withRetry<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const sleep = hooks.sleep ?? abortableSleep;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.retries || !isRetriable(error) || hooks.signal?.aborted) throw error;
      await sleep(backoffMs(policy, n, hooks.random), hooks.signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
