/**
 * What bench/peer-kafka.ts needs of a server it measures, Kafka's broker or `floe dev` alike: where
 * Kafka clients connect, the process whose CPU is counted, a restart (for the cold read) and a
 * clean stop. Also the last-resort cleanup both launchers register, so a run that dies or is
 * interrupted leaves no JVM, no node process and no temp directory behind.
 */
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";

export interface PeerServer {
  /** Short id used in results: kafka, floe, floe-fsync, kafka-fsync. */
  readonly id: string;
  /** What it is, for the report: product, version, durability. */
  readonly label: string;
  /** host:port of the Kafka protocol listener. */
  readonly bootstrap: string;
  /** Floe's HTTP API (Floe's own client); undefined for Kafka. */
  readonly httpUrl?: string;
  /** The server process now (it changes on restart): the one whose CPU is counted. */
  readonly pid: number;
  /** Stops the process cleanly and starts it again on the same data. */
  restart(): Promise<void>;
  /** Stops the process cleanly (SIGTERM, then SIGKILL after a grace period) and removes its files. */
  stop(): Promise<void>;
}

/** The process's CPU seconds so far, user + system, from /proc/<pid>/stat (utime + stime, in clock ticks). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name; USER_HZ is 100 on Linux.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A port free on 127.0.0.1 now (the OS picks it; another process could take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Stops `child`: SIGTERM, and SIGKILL if it has not exited after `graceMs`. Resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Every server process and directory still alive, for the last-resort cleanup. */
const live = new Set<{ child?: ChildProcess; dir?: string }>();

/**
 * Registers a process or directory for the last-resort cleanup; the returned function unregisters
 * it once it was stopped or removed the ordinary way.
 */
export function trackForCleanup(entry: { child?: ChildProcess; dir?: string }): () => void {
  live.add(entry);
  return () => live.delete(entry);
}

/** Kills (by PID) every tracked process and removes every tracked directory, synchronously. */
export function cleanUpNow(): void {
  for (const entry of live) {
    if (entry.child && entry.child.exitCode === null && entry.child.signalCode === null) {
      entry.child.kill("SIGKILL");
    }
    if (entry.dir) rmSync(entry.dir, { recursive: true, force: true });
  }
  live.clear();
}

let installed = false;
/**
 * On exit, Ctrl-C or SIGTERM: kill what is left and remove its files. The ordinary path stops every
 * server cleanly first, so this only acts when a run fails or is interrupted.
 */
export function installCleanupHandlers(): void {
  if (installed) return;
  installed = true;
  process.once("exit", cleanUpNow);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: killing the servers (by PID) and removing their files`);
      cleanUpNow();
      process.exit(130);
    });
  }
}

/**
 * A server run as one child process over a directory of its own (Kafka's log dir, floe dev's data
 * dir): a restart stops the process cleanly and launches it again on the same files; a stop also
 * removes them. The directory is in the last-resort cleanup from construction on.
 */
export abstract class ChildServer {
  protected child: ChildProcess | undefined;
  private readonly untrack: () => void;

  protected constructor(
    protected readonly dir: string,
    private readonly stopGraceMs: number,
  ) {
    this.untrack = trackForCleanup({ dir });
  }

  /** Starts the process on `dir` and resolves once it serves clients. */
  protected abstract launch(): Promise<void>;

  async restart(): Promise<void> {
    if (this.child) await stopChild(this.child, this.stopGraceMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, this.stopGraceMs);
    this.child = undefined;
    await rm(this.dir, { recursive: true, force: true });
    this.untrack();
  }
}
