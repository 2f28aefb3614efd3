import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import { CliError } from "./error-line.js";
import {
  BATCHING_PROFILE_NAMES,
  type BatchingProfileName,
  parseByteSize,
} from "../server/batching-profile.js";
// The server (broker, storage, HTTP API) is imported in run(): other commands never load it.

const STORAGES = ["embedded", "memory", "aws"] as const;
type Storage = (typeof STORAGES)[number];

export const devCommand: Command = {
  path: ["dev"],
  summary: "Run a local Floe server with the full HTTP API",
  kafka: "kafka-server-start.sh",
  usage: "floe dev [--port <n>] [--data-dir <dir>] [--storage embedded|memory|aws] [options]",
  connects: false,
  options: {
    port: {
      kind: "value",
      valueName: "n",
      description: "port to listen on (default 8092; 0 picks a free one)",
    },
    host: { kind: "value", valueName: "address", description: "address to listen on (default 127.0.0.1)" },
    "data-dir": {
      kind: "value",
      valueName: "dir",
      description: "where the embedded backend keeps its files (default .floe)",
    },
    storage: {
      kind: "value",
      valueName: "kind",
      description:
        "embedded: files + SQLite under --data-dir (default; env FLOE_STORAGE); memory: gone on exit; aws: S3 + DynamoDB (FLOE_BUCKET, FLOE_TABLE)",
    },
    "group-session-timeout-ms": {
      kind: "value",
      valueName: "ms",
      description:
        "remove a consumer-group member not heard from for this long (default 45000; Kafka's group.consumer.session.timeout.ms)",
    },
    "maintenance-interval-ms": {
      kind: "value",
      valueName: "ms",
      description:
        "how often compaction, retention and garbage collection run (default 60000; 0 turns them off)",
    },
    profile: {
      kind: "value",
      valueName: "name",
      description:
        "group-commit batching: default (linger 5 ms, objects up to 4 MiB), low-latency (1 ms, 1 MiB) or low-cost (400 ms, objects of 4 MiB and more)",
    },
    "linger-ms": {
      kind: "value",
      valueName: "ms",
      description:
        "how long a produce waits for others to share its object (overrides the profile; Kafka's linger.ms)",
    },
    "batch-max-bytes": {
      kind: "value",
      valueName: "size",
      description: "write an object once its batch holds this much, e.g. 4MiB (overrides the profile)",
    },
  },
  notes: ["Topics are created on first produce (auto.create.topics.enable=true). Ctrl-C stops it cleanly."],
  examples: ["floe dev", "floe dev --port 9000 --data-dir /tmp/floe", "floe dev --profile low-cost"],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const port = options.integer("port", 0) ?? 8092;
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const storage = options.string("storage") ?? io.env.FLOE_STORAGE ?? "embedded";
    if (!(STORAGES as readonly string[]).includes(storage)) {
      throw new UsageError(`--storage must be one of ${STORAGES.join(", ")}, got "${storage}"`);
    }
    const dataDir = options.string("data-dir") ?? io.env.FLOE_DATA_DIR ?? ".floe";
    const dataDirFailure = storage === "embedded" ? dataDirProblem(path.resolve(dataDir)) : undefined;
    if (dataDirFailure) throw new CliError(dataDirFailure);
    const profile = options.string("profile");
    if (profile !== undefined && !(BATCHING_PROFILE_NAMES as readonly string[]).includes(profile)) {
      throw new UsageError(`--profile must be one of ${BATCHING_PROFILE_NAMES.join(", ")}, got "${profile}"`);
    }
    const lingerMs = options.integer("linger-ms", 0);
    const batchMaxText = options.string("batch-max-bytes");
    const maxBatchBytes = batchMaxText === undefined ? undefined : parseByteSize(batchMaxText);
    if (batchMaxText !== undefined && maxBatchBytes === undefined) {
      throw new UsageError(
        `--batch-max-bytes must be a size such as 1048576, 512KiB or 4MiB, got "${batchMaxText}"`,
      );
    }
    const [{ startDevServer }, { installSignalHandlers }] = await Promise.all([
      import("../server/dev-server.js"),
      import("../server/signal-handlers.js"),
    ]);
    const server = await startDevServer({
      port,
      host: options.string("host"),
      storage: storage as Storage,
      dataDir,
      profile: profile as BatchingProfileName | undefined,
      lingerMs,
      maxBatchBytes,
      groupSessionTimeoutMs: options.integer("group-session-timeout-ms", 2),
      maintenanceIntervalMs: options.integer("maintenance-interval-ms", 0),
      log: (line) => io.stdout.write(`${line}\n`),
    }).catch((error: unknown) => {
      throw startupError(error, options.string("host") ?? "127.0.0.1", port, path.resolve(dataDir));
    });
    const urlFlag = server.port === 8092 ? "" : ` --url ${server.url}`;
    io.stdout.write(
      `  try: floe topics create --topic quickstart --partitions 1${urlFlag}\nPress Ctrl-C to stop.\n`,
    );
    // The server's own shutdown: answer in-flight requests, flush the group commit, close storage.
    return new Promise<number>((resolve) => {
      installSignalHandlers(server, { log: (line) => io.stdout.write(`${line}\n`), exit: resolve });
    });
  },
};

/**
 * Why the embedded backend could not write `dir` (or the nearest ancestor it would be created in),
 * said plainly; undefined when it can. Checked before starting, so the answer is not SQLite's
 * "unable to open database file".
 */
export function dataDirProblem(dir: string): string | undefined {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    if (!statSync(existing).isDirectory()) {
      return `cannot use the data dir ${dir}: ${existing} is not a directory`;
    }
    accessSync(existing, constants.W_OK | constants.X_OK);
    const db = path.join(dir, "meta.db");
    if (existsSync(db)) accessSync(db, constants.R_OK | constants.W_OK);
  } catch (error) {
    return `cannot write the data dir ${dir}: ${fileErrorReason(error)}`;
  }
  return undefined;
}

function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EROFS") return "read-only file system";
  return error instanceof Error ? error.message : String(error);
}

/** A failure to write the data dir found only once starting (a file's mode, a read-only disk). */
function dataDirFailure(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const { code, syscall } = e as NodeJS.ErrnoException;
    if ((code === "EACCES" || code === "EPERM" || code === "EROFS") && syscall !== "listen") {
      return fileErrorReason(e);
    }
    if (/unable to open database file|readonly database/i.test(e.message)) return "permission denied";
  }
  return undefined;
}

/** The usual ways a server fails to start, said plainly. */
export function startupError(error: unknown, host: string, port: number, dataDir: string): unknown {
  const dataDirReason = dataDirFailure(error);
  if (dataDirReason) return new CliError(`cannot write the data dir ${dataDir}: ${dataDirReason}`);
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === "EADDRINUSE") {
    return new UsageError(
      `port ${port} on ${host} is already in use (another floe dev?); pick one with --port`,
    );
  }
  if (code === "EACCES")
    return new UsageError(`not allowed to listen on ${host}:${port}; try a port above 1024`);
  if (code === "EADDRNOTAVAIL") return new UsageError(`cannot listen on ${host}: no such local address`);
  return error;
}
