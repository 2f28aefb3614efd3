/** The benchmark's side of bench/support/server-process.ts: start it, ask it things, stop it. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { GroupCommitStats } from "../../src/broker/group-committer.js";
import type { ResolvedBatching } from "../../src/server/batching-profile.js";
import type { StorageCounts } from "../../src/storage/instrumented.js";
import type { BaselineResult } from "./raw-baseline.js";
import type { Command, ServerConfig } from "./server-process.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface ServerCounts {
  total: StorageCounts;
  produce: StorageCounts;
  fetch: StorageCounts;
  maintenance: StorageCounts;
  groupCommit: GroupCommitStats;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  cpuCores: number;
}

export interface StartOptions {
  /** Write a V8 CPU profile of the server into this directory (node --cpu-prof). */
  cpuProfileDir?: string;
}

export class BenchServer {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly exited: Promise<void>;
  private output = "";

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly batching: ResolvedBatching,
  ) {
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.on("message", (m: { id?: number; value?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const waiter = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) waiter?.reject(new Error(`bench server: ${m.error}`));
      else waiter?.resolve(m.value);
    });
    child.stderr?.on("data", (c: Buffer) => {
      this.output = (this.output + c.toString()).slice(-4000);
    });
    child.once("exit", (code) => {
      for (const w of this.pending.values())
        w.reject(new Error(`bench server exited (${code}): ${this.output}`));
      this.pending.clear();
    });
  }

  static async start(config: ServerConfig, options: StartOptions = {}): Promise<BenchServer> {
    const args = ["--import", "tsx"];
    if (options.cpuProfileDir) args.push("--cpu-prof", "--cpu-prof-dir", options.cpuProfileDir);
    args.push(path.join(ROOT, "bench/support/server-process.ts"));
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, FLOE_BENCH_SERVER: JSON.stringify(config), POWERTOOLS_LOG_LEVEL: "ERROR" },
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-4000);
    });
    const ready = await new Promise<{ url: string; batching: ResolvedBatching }>((resolve, reject) => {
      child.once("message", (m: { type?: string; url: string; batching: ResolvedBatching }) => {
        if (m.type === "ready") resolve(m);
      });
      child.once("exit", (code) =>
        reject(new Error(`bench server exited during start (${code}):\n${stderr}`)),
      );
    });
    return new BenchServer(child, ready.url, ready.batching);
  }

  private ask<T>(command: Command): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, command });
    });
  }

  counts(): Promise<ServerCounts> {
    return this.ask({ type: "counts" });
  }

  async reset(): Promise<void> {
    await this.ask({ type: "reset" });
  }

  /** Replays the writes made since the last reset straight through the storage ports. */
  baseline(): Promise<BaselineResult> {
    return this.ask({ type: "baseline" });
  }

  /** Runs compaction (src/maintenance), when it is there to run. */
  compact(segmentBytes: number): Promise<{ available: boolean; reason?: string; reports?: unknown[] }> {
    return this.ask({ type: "compact", segmentBytes });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await this.ask({ type: "close" }).catch(() => {});
    await this.exited;
  }

  /** For a failed run: stop at once. */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill("SIGKILL");
  }
}
