import type { Readable, Writable } from "node:stream";
import type { OptionReader, OptionSpecs } from "./args.js";
import type { Floe } from "../client/floe.js";
import type { RetryOptions } from "../client/retry.js";

/** Where a command reads and writes: the process's streams in `floe`, anything in tests. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** SIGINT/SIGTERM as an AbortSignal, so long-running commands can stop cleanly. */
  interrupted: AbortSignal;
}

export interface CommandContext {
  options: OptionReader;
  io: CliIo;
  /** A client for the server chosen by --url / --bootstrap-server / FLOE_URL. */
  client(options?: { retry?: RetryOptions }): Floe;
}

export interface Command {
  /** Words after `floe`, e.g. ["topics", "create"]. */
  path: string[];
  summary: string;
  /** The usage line after "Usage: ". */
  usage: string;
  /** The Kafka tool this one mirrors, for Kafka users reading --help. */
  kafka?: string;
  options: OptionSpecs;
  /** Whether --url and friends apply (everything but `floe dev`). */
  connects: boolean;
  /** Run even when the arguments do not parse (for placeholders that only explain themselves). */
  lenient?: boolean;
  examples?: string[];
  notes?: string[];
  /** Resolves to the exit code. */
  run(context: CommandContext): Promise<number>;
}
