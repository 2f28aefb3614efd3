/** The maintenance API other layers wire in: the Lambda function, `floe dev` and the admin CLI. */
export type { MaintenanceBudget } from "./budget.js";
export { Maintenance } from "./maintenance.js";
export {
  DEFAULT_SEGMENT_BYTES,
  type MaintenanceOptions,
  maintenanceOptionsFromEnv,
} from "./maintenance-options.js";
export {
  type CycleSummary,
  type MaintenanceError,
  type MaintenanceReport,
  type MetricPoint,
  reportMetrics,
} from "./report.js";
export { type RunMaintenanceOnceOptions, runMaintenanceOnce } from "./run-once.js";
export { type MaintenanceTimer, type MaintenanceTimerOptions, startMaintenanceTimer } from "./timer.js";
