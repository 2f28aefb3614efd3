/** Where a run happened: enough to tell two result files apart and to judge their noise. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, freemem, loadavg, totalmem } from "node:os";

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine. */
  loadAverage: number[];
  cpuPressure: CpuPressure | null;
}

/**
 * Linux pressure stall information: the share of time some runnable task waited for a CPU, over
 * the last 10 and 60 s. Near 0 on a quiet machine; near 100 when work queues for the cores.
 */
export interface CpuPressure {
  avg10: number;
  avg60: number;
}

export function cpuPressure(): CpuPressure | null {
  try {
    const line = readFileSync("/proc/pressure/cpu", "utf8").split("\n")[0];
    const avg10 = Number(/avg10=([\d.]+)/.exec(line)?.[1]);
    const avg60 = Number(/avg60=([\d.]+)/.exec(line)?.[1]);
    return Number.isFinite(avg10) && Number.isFinite(avg60) ? { avg10, avg60 } : null;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
    freeMemoryGiB: Number((freemem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    cpuPressure: cpuPressure(),
  };
}

export function gitCommit(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      encoding: "utf8",
    });
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return { commit: "unknown", dirty: false };
  }
}
