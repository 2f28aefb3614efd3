/**
 * When the embedded store (files + SQLite, `floe dev`) forces what it acknowledged to disk, set as
 * Kafka sets its broker: log.flush.interval.messages and log.flush.interval.ms (decision 0010).
 * Kafka's defaults never flush: the OS page cache writes back, so an acknowledged record survives
 * the process's crash or `kill -9` but not a power loss or an OS crash. The S3 + DynamoDB backend
 * is durable on every request and takes neither setting.
 */
import { FloeError } from "../errors.js";

/** Kafka's names for the two server settings; absent means Kafka's default, never. */
export interface FlushSettings {
  /** Flush once this many records were appended. Only 1 (every commit) is supported. */
  "log.flush.interval.messages"?: number;
  /** Flush at most this long after a record was appended (ms, >= 1). */
  "log.flush.interval.ms"?: number;
}

export type FlushPolicy =
  /** Kafka's default: no fsync; the OS writes back when it chooses. */
  | { mode: "os" }
  /** log.flush.interval.messages=1: every object and every commit is on disk before its answer. */
  | { mode: "every-commit" }
  /** log.flush.interval.ms: everything acknowledged is on disk within intervalMs (plus the flush). */
  | { mode: "interval"; intervalMs: number };

/** How each store of the embedded backend syncs under a policy. */
export interface StoreSyncModes {
  /** each: fsync the file and its directory before a put resolves; on-flush: at the next flush; never. */
  objects: "each" | "on-flush" | "never";
  /** Whether a commit waits for its WAL to be on disk before it resolves. */
  metaSyncEachCommit: boolean;
  /** How often the flusher runs, when one is needed. */
  flushIntervalMs?: number;
}

export const DEFAULT_FLUSH_POLICY: FlushPolicy = { mode: "os" };

export function flushPolicyOf(settings: FlushSettings = {}): FlushPolicy {
  const messages = settings["log.flush.interval.messages"];
  const ms = settings["log.flush.interval.ms"];
  if (messages !== undefined) {
    if (!Number.isSafeInteger(messages) || messages < 1) {
      throw new FloeError(
        "INVALID_CONFIG",
        `log.flush.interval.messages must be an integer >= 1, got ${messages}`,
      );
    }
    if (messages > 1) {
      // Counting records needs the broker's record counts at the store; not built (decision 0010).
      throw new FloeError(
        "INVALID_CONFIG",
        `log.flush.interval.messages ${messages} is not supported: use 1 (flush every commit) or log.flush.interval.ms`,
      );
    }
  }
  if (ms !== undefined && (!Number.isSafeInteger(ms) || ms < 1)) {
    throw new FloeError("INVALID_CONFIG", `log.flush.interval.ms must be an integer >= 1, got ${ms}`);
  }
  // Flushing every commit already covers any interval.
  if (messages === 1) return { mode: "every-commit" };
  if (ms !== undefined) return { mode: "interval", intervalMs: ms };
  return DEFAULT_FLUSH_POLICY;
}

export function storeSyncModes(policy: FlushPolicy): StoreSyncModes {
  switch (policy.mode) {
    case "os":
      return { objects: "never", metaSyncEachCommit: false };
    case "every-commit":
      return { objects: "each", metaSyncEachCommit: true };
    case "interval":
      return { objects: "on-flush", metaSyncEachCommit: false, flushIntervalMs: policy.intervalMs };
  }
}

/** One line for the server's banner: what an acknowledged record survives. */
export function describeFlushPolicy(policy: FlushPolicy): string {
  switch (policy.mode) {
    case "os":
      return "OS page cache (Kafka's default: acknowledged records survive a process crash, not a power loss; --log-flush-interval-messages 1 fsyncs every commit)";
    case "every-commit":
      return "fsync every commit (log.flush.interval.messages=1: acknowledged records survive a power loss)";
    case "interval":
      return `fsync every ${policy.intervalMs} ms (log.flush.interval.ms: records acknowledged before a flush survive a power loss)`;
  }
}
