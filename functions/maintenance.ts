import type { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, ScheduledEvent } from "aws-lambda";
import { loggableError } from "../src/api/loggable-error.js";
import {
  Maintenance,
  type MaintenanceReport,
  type MetricPoint,
  maintenanceOptionsFromEnv,
  reportMetrics,
} from "../src/maintenance/index.js";
import type { Backend } from "../src/storage/ports.js";
import { backendFromEnv, functionLogger, oncePerContainer } from "./function-setup.js";

/** Left after the slice's budget for saving the cursor and flushing the log and metrics. */
const MARGIN_MS = 10_000;
const MIN_SLICE_MS = 1_000;

/** The part of Powertools' Metrics the handler uses, so tests can capture what it emits. */
export interface MetricsSink {
  addMetric(name: string, unit: MetricPoint["unit"], value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface MaintenanceHandlerDeps {
  env?: NodeJS.ProcessEnv;
  /** Default: the backend FLOE_STORAGE (default "aws") and friends describe. */
  backend?: () => Promise<Backend>;
  logger?: Logger;
  metrics?: MetricsSink;
}

export type MaintenanceHandler = (event: ScheduledEvent, context: Context) => Promise<MaintenanceReport>;

/**
 * The maintenance function (architecture §7), invoked by an EventBridge schedule: one slice of
 * maintenance per invocation, bounded by the invocation's remaining time. The report goes to the
 * log as structured JSON and to CloudWatch as metrics (EMF).
 */
export function createHandler(deps: MaintenanceHandlerDeps = {}): MaintenanceHandler {
  const env = deps.env ?? process.env;
  const logger = deps.logger ?? functionLogger(env);
  const metrics =
    deps.metrics ??
    new Metrics({ namespace: env.POWERTOOLS_METRICS_NAMESPACE ?? "Floe", serviceName: "floe-maintenance" });
  const backend = deps.backend ?? backendFromEnv(env);
  const ready = oncePerContainer(
    async () => new Maintenance(await backend(), maintenanceOptionsFromEnv(env)),
  );

  return async (_event, context) => {
    let maintenance: Maintenance;
    try {
      maintenance = await ready();
    } catch (e) {
      // A deployment fault (missing FLOE_TABLE, …): logged for the operator; the next call retries.
      logger.error("cannot set up maintenance", { error: loggableError(e) });
      throw e;
    }
    const timeMs = Math.max(MIN_SLICE_MS, context.getRemainingTimeInMillis() - MARGIN_MS);
    const report = await maintenance.runOnce({ timeMs });
    if (report.errors.length > 0) logger.warn("maintenance slice finished with errors", { report });
    else logger.info("maintenance slice", { report });
    for (const point of reportMetrics(report)) metrics.addMetric(point.name, point.unit, point.value);
    metrics.publishStoredMetrics();
    return report;
  };
}

export const handler = createHandler();
