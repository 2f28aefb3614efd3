import type { Backend } from "../storage/ports.js";
import type { MaintenanceBudget } from "./budget.js";
import { Maintenance } from "./maintenance.js";
import type { MaintenanceOptions } from "./maintenance-options.js";
import { type MaintenanceReport, mergeReports } from "./report.js";

export interface RunMaintenanceOnceOptions extends MaintenanceOptions {
  /** The storage to maintain; a Broker fits too (it exposes `meta` and `objects`). */
  backend: Pick<Backend, "meta" | "objects">;
  /** Each slice's budget; unbounded by default, so one slice normally does the whole pass. */
  slice?: MaintenanceBudget;
}

/**
 * One whole pass, for `floe admin maintenance --once`: runs slices until a pass that began within
 * this call completes (a pass left half done by an earlier worker is finished first, then a full
 * one follows). Stops early when a slice ends on an error rather than its budget (a broken
 * backend fails fast) or does nothing at all (a budget too small for one step); the summed report
 * says what happened.
 */
export async function runMaintenanceOnce(options: RunMaintenanceOnceOptions): Promise<MaintenanceReport> {
  const { backend, slice = {}, ...rest } = options;
  const maintenance = new Maintenance(backend, rest);
  const startedAt = maintenance.options.clock();
  let total: MaintenanceReport | null = null;
  for (;;) {
    const report = await maintenance.runOnce(slice);
    total = total === null ? report : mergeReports(total, report);
    if (report.cycleComplete && report.cycle !== null && report.cycle.startedAt >= startedAt) return total;
    if (!report.cycleComplete && !report.budgetExhausted) return total;
    // A budget too small to do even one step would otherwise loop here for ever.
    if (!report.cycleComplete && !madeProgress(report)) return total;
  }
}

function madeProgress(r: MaintenanceReport): boolean {
  return r.ops > 0 || r.partitions.visited > 0 || r.gc.objectsListed > 0 || r.reclaim.partitions > 0;
}
