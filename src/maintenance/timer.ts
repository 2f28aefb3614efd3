import type { Backend } from "../storage/ports.js";
import type { MaintenanceBudget } from "./budget.js";
import { Maintenance } from "./maintenance.js";
import type { MaintenanceOptions } from "./maintenance-options.js";
import type { MaintenanceReport } from "./report.js";

export interface MaintenanceTimerOptions extends MaintenanceOptions {
  /** The storage to maintain; a Broker fits too (it exposes `meta` and `objects`). */
  backend: Pick<Backend, "meta" | "objects">;
  /** Pause between the end of one slice and the start of the next. Default 60 s. */
  intervalMs?: number;
  /** Before the first slice. Default: intervalMs. */
  initialDelayMs?: number;
  /** Each slice's budget. Default 10 s, so a stop() never waits long. */
  budget?: MaintenanceBudget;
  onReport?: (report: MaintenanceReport) => void;
  /** A slice that threw (its own errors are in the report); the timer carries on. */
  onError?: (error: unknown) => void;
}

export interface MaintenanceTimer {
  /** No new slice starts; resolves once the running one (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * Maintenance on a timer for a long-running process (`floe dev`, architecture §7): slices one after
 * another with `intervalMs` between them, never two at once. The timer does not keep the process
 * alive.
 */
export function startMaintenanceTimer(options: MaintenanceTimerOptions): MaintenanceTimer {
  const {
    backend,
    intervalMs = 60_000,
    initialDelayMs,
    budget = { timeMs: 10_000 },
    onReport,
    onError,
    ...rest
  } = options;
  const maintenance = new Maintenance(backend, rest);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(tick, delay);
    timer.unref();
  };
  const tick = () => {
    timer = undefined;
    running = maintenance
      .runOnce(budget)
      .then(
        (report) => onReport?.(report),
        (error: unknown) => onError?.(error),
      )
      .finally(() => {
        running = undefined;
        schedule(intervalMs);
      });
  };
  schedule(initialDelayMs ?? intervalMs);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
