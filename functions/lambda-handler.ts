import { Metrics } from "@aws-lambda-powertools/metrics";
import { type ApiDeps, type ApiHandler, createApiHandler } from "../src/api/api-handler.js";
import { errorResponse, toPublicError } from "../src/api/error-response.js";
import { loggableError } from "../src/api/loggable-error.js";
import { backendFromEnv, brokerOptionsFromEnv, functionLogger, oncePerContainer } from "./function-setup.js";
import { MeteredBroker, type MetricsSink, withRequestMetrics } from "./metered-broker.js";

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
  const logger = functionLogger(env);
  const ready = oncePerContainer(async (): Promise<ApiHandler> => {
    const backend = await backendFromEnv(env)();
    const broker = new MeteredBroker(backend, brokerOptionsFromEnv(env));
    return withRequestMetrics(createApiHandler({ broker, logger, routes }), metrics);
  });
  return async (event, context) => {
    let handler: ApiHandler;
    try {
      handler = await ready();
    } catch (e) {
      // A deployment fault (missing FLOE_BUCKET, …): logged for the operator; the next call retries.
      logger.error("cannot set up the function", { error: loggableError(e) });
      return errorResponse(toPublicError(new Error("setup failed", { cause: e })));
    }
    return handler(event, context);
  };
}
