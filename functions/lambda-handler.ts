import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { type ApiDeps, type ApiHandler, createApiHandler } from "../src/api/api-handler.js";
import { errorResponse, toPublicError } from "../src/api/error-response.js";
import { loggableError } from "../src/api/loggable-error.js";
import { backendConfigFromEnv, createBackend } from "../src/storage/backend.js";
import { MeteredBroker, type MetricsSink, withRequestMetrics } from "./metered-broker.js";

function flag(value: string | undefined): boolean {
  return /^(?:1|true|yes|on)$/i.test(value?.trim() ?? "");
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * One Lambda function's handler: the backend (storage "aws" unless FLOE_STORAGE says otherwise) and
 * the Broker are built on the first invocation and kept for the container's life. A deployed stack
 * leaves topic auto-creation off unless FLOE_AUTO_CREATE_TOPICS is true. Each invocation that
 * produced or fetched publishes RecordsIn/BytesIn or RecordsOut/BytesOut/ConsumerLag
 * (src/api/request-metrics.ts) as embedded metric format, in POWERTOOLS_METRICS_NAMESPACE (the
 * stack sets Floe) with the dimension service=floe-{function}.
 */
export function lambdaHandler(
  routes: NonNullable<ApiDeps["routes"]>,
  env: NodeJS.ProcessEnv,
  metrics: MetricsSink = new Metrics({
    namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Floe",
    serviceName: `floe-${routes}`,
  }),
): ApiHandler {
  const logger = new Logger({
    serviceName: "floe",
    logLevel: (env.POWERTOOLS_LOG_LEVEL ?? env.AWS_LAMBDA_LOG_LEVEL ?? "INFO") as "INFO",
  });
  let ready: Promise<ApiHandler> | undefined;
  const build = async (): Promise<ApiHandler> => {
    const backend = await createBackend(backendConfigFromEnv({ FLOE_STORAGE: "aws", ...env }));
    const broker = new MeteredBroker(backend, {
      autoCreateTopics: flag(env.FLOE_AUTO_CREATE_TOPICS),
      defaultPartitions: positive(env.FLOE_DEFAULT_PARTITIONS),
      // Below the function's own timeout, so a contended commit answers REQUEST_TIMED_OUT rather
      // than the front door's anonymous 5xx.
      requestTimeoutMs: positive(env.FLOE_REQUEST_TIMEOUT_MS),
      topicDefaults: env.FLOE_DEFAULT_RETENTION_MS
        ? { "retention.ms": env.FLOE_DEFAULT_RETENTION_MS }
        : undefined,
    });
    return withRequestMetrics(createApiHandler({ broker, logger, routes }), metrics);
  };
  return async (event, context) => {
    let handler: ApiHandler;
    try {
      ready ??= build();
      handler = await ready;
    } catch (e) {
      // A deployment fault (missing FLOE_BUCKET, …): logged for the operator; the next call retries.
      ready = undefined;
      logger.error("cannot set up the function", { error: loggableError(e) });
      return errorResponse(toPublicError(new Error("setup failed", { cause: e })));
    }
    return handler(event, context);
  };
}
