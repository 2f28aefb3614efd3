import type { PartitionLeases } from "../broker/lease.js";
import type { TopicAdmin } from "../broker/topics.js";
import type { MetaStore, ObjectStore } from "../storage/ports.js";
import type { Budget } from "./budget.js";
import type { ResolvedMaintenanceOptions } from "./maintenance-options.js";
import type { MaintenanceReport } from "./report.js";

/** What every maintenance step works with during one slice. */
export interface MaintenanceContext {
  meta: MetaStore;
  objects: ObjectStore;
  topics: TopicAdmin;
  leases: PartitionLeases;
  options: ResolvedMaintenanceOptions;
  budget: Budget;
  report: MaintenanceReport;
}
