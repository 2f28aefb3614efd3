import { Logger } from "@aws-lambda-powertools/logger";
import type { BrokerOptions } from "../src/broker/broker.js";
import { backendConfigFromEnv, createBackend } from "../src/storage/backend.js";
import type { Backend } from "../src/storage/ports.js";

/** What every function builds from its environment, in one place so they cannot drift apart. */

function flag(value: string | undefined): boolean {
  return /^(?:1|true|yes|on)$/i.test(value?.trim() ?? "");
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The structured logger every function writes with, at POWERTOOLS_LOG_LEVEL (or Lambda's log level). */
export function functionLogger(env: NodeJS.ProcessEnv): Logger {
  return new Logger({
    serviceName: "floe",
    logLevel: (env.POWERTOOLS_LOG_LEVEL ?? env.AWS_LAMBDA_LOG_LEVEL ?? "INFO") as "INFO",
  });
}

/** The backend FLOE_STORAGE (default "aws") and its FLOE_* settings describe. */
export function backendFromEnv(env: NodeJS.ProcessEnv): () => Promise<Backend> {
  return () => createBackend(backendConfigFromEnv({ FLOE_STORAGE: "aws", ...env }));
}

/**
 * The broker settings a deployed stack gives its functions: topic auto-creation off unless
 * FLOE_AUTO_CREATE_TOPICS says otherwise, num.partitions, the request timeout (below the function's
 * own, so a contended commit answers REQUEST_TIMED_OUT rather than the front door's anonymous 5xx)
 * and the deployment's default retention.
 */
export function brokerOptionsFromEnv(env: NodeJS.ProcessEnv): BrokerOptions {
  return {
    autoCreateTopics: flag(env.FLOE_AUTO_CREATE_TOPICS),
    defaultPartitions: positive(env.FLOE_DEFAULT_PARTITIONS),
    requestTimeoutMs: positive(env.FLOE_REQUEST_TIMEOUT_MS),
    topicDefaults: env.FLOE_DEFAULT_RETENTION_MS
      ? { "retention.ms": env.FLOE_DEFAULT_RETENTION_MS }
      : undefined,
  };
}

/**
 * Builds on the first call and keeps the result for the container's life; a build that failed (a
 * deployment fault such as a missing FLOE_TABLE) is tried again by the next call.
 */
export function oncePerContainer<T>(build: () => Promise<T>): () => Promise<T> {
  let ready: Promise<T> | undefined;
  return () => {
    ready ??= build().catch((e) => {
      ready = undefined;
      throw e;
    });
    return ready;
  };
}
