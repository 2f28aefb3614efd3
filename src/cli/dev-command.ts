import { accessSync, constants, existsSync, statSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./args.js";
import type { Command } from "./command.js";
import { CliError } from "./error-line.js";
import {
  FLUSH_OPTIONS,
  listenerOptions,
  readFlushPolicy,
  readListeners,
  readSubscriptionTargets,
  readTuning,
  TUNING_OPTIONS,
  tryHints,
} from "./server-options.js";
import { fileErrorReason, startupError } from "./startup-error.js";
// The server (broker, storage, HTTP API, Kafka listener) is imported in run(): other commands never load it.

const STORAGES = ["embedded", "memory", "aws"] as const;
type Storage = (typeof STORAGES)[number];

export const devCommand: Command = {
  path: ["dev"],
  summary: "Run a local Floe server with the full HTTP API and the Kafka protocol",
  kafka: "kafka-server-start.sh",
  usage:
    "floe dev [--port <n>] [--kafka-port <n>] [--data-dir <dir>] [--storage embedded|memory|aws] [options]",
  connects: false,
  options: {
    ...listenerOptions("127.0.0.1"),
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
    ...FLUSH_OPTIONS,
    ...TUNING_OPTIONS,
  },
  notes: [
    "The HTTP API listens on 8092 (floe's commands and Floe's client use it); the Kafka protocol on 9092, Kafka's port, for Kafka's own clients and tools (--bootstrap-server 127.0.0.1:9092).",
    "Topics are created on first produce (auto.create.topics.enable=true). Ctrl-C stops it cleanly.",
    "Like Kafka by default, the embedded store leaves writes to the OS page cache: acknowledged records survive floe dev crashing or being killed, not a power loss or an OS crash. --log-flush-interval-messages 1 fsyncs every commit before answering.",
  ],
  examples: [
    "floe dev",
    "floe dev --port 9000 --kafka-port 19092 --data-dir /tmp/floe",
    "floe dev --no-kafka --profile low-cost",
    "floe dev --log-flush-interval-messages 1",
  ],
  async run(context) {
    const { options, io } = context;
    options.noPositionals();
    const listeners = readListeners(options, "127.0.0.1");
    const storage = options.string("storage") ?? io.env.FLOE_STORAGE ?? "embedded";
    if (!(STORAGES as readonly string[]).includes(storage)) {
      throw new UsageError(`--storage must be one of ${STORAGES.join(", ")}, got "${storage}"`);
    }
    const dataDir = options.string("data-dir") ?? io.env.FLOE_DATA_DIR ?? ".floe";
    const dataDirFailure = storage === "embedded" ? dataDirProblem(path.resolve(dataDir)) : undefined;
    if (dataDirFailure) throw new CliError(dataDirFailure);
    const flush = readFlushPolicy(options);
    if (flush && storage !== "embedded") {
      throw new UsageError(
        `--log-flush-interval-messages and --log-flush-interval-ms apply to --storage embedded only; ${storage} storage ${storage === "aws" ? "is durable on every request" : "is never durable"}`,
      );
    }
    const tuning = readTuning(options);
    const targets = await readSubscriptionTargets(options);
    const [{ startDevServer }, { installSignalHandlers }] = await Promise.all([
      import("../server/dev-server.js"),
      import("../server/signal-handlers.js"),
    ]);
    const server = await startDevServer({
      ...listeners,
      storage: storage as Storage,
      dataDir,
      flush,
      ...tuning,
      ...targets,
      log: (line) => io.stdout.write(`${line}\n`),
    }).catch((error: unknown) => {
      throw startupError(error, listeners, path.resolve(dataDir));
    });
    io.stdout.write(`${tryHints(server, listeners.kafka?.advertisedHost)}Press Ctrl-C to stop.\n`);
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
