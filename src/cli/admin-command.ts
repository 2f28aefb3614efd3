import path from "node:path";
import type { MaintenanceReport } from "../maintenance/index.js";
import type { BackendConfig } from "../storage/backend.js";
import { UsageError } from "./args.js";
import type { Command } from "./command.js";

const STORAGES = ["embedded", "aws"] as const;

/**
 * Maintenance works on the storage itself, not through the HTTP API, exactly as the scheduled
 * function does in AWS: it needs delete rights on objects that no API route has. Leases make it
 * safe beside a running `floe dev` or the deployed schedule.
 */
export const adminMaintenanceCommand: Command = {
  path: ["admin", "maintenance"],
  summary: "Run one pass of compaction, retention and garbage collection on the storage",
  usage: "floe admin maintenance --once [--storage embedded|aws] [--data-dir <dir>]",
  connects: false,
  options: {
    once: {
      kind: "flag",
      description: "run one whole pass and exit (the only mode; the server runs it on a timer)",
    },
    storage: {
      kind: "value",
      valueName: "kind",
      description:
        "embedded: files + SQLite under --data-dir (default; env FLOE_STORAGE); aws: FLOE_BUCKET, FLOE_TABLE",
    },
    "data-dir": {
      kind: "value",
      valueName: "dir",
      description: "the embedded backend's directory (default .floe)",
    },
  },
  examples: [
    "floe admin maintenance --once",
    "FLOE_BUCKET=b FLOE_TABLE=t floe admin maintenance --once --storage aws",
  ],
  async run({ options, io }) {
    if (!options.flag("once")) throw new UsageError("say --once: maintenance runs one pass and exits");
    const storage = options.string("storage") ?? io.env.FLOE_STORAGE ?? "embedded";
    if (!(STORAGES as readonly string[]).includes(storage)) {
      throw new UsageError(`--storage must be one of ${STORAGES.join(", ")}, got ${storage}`);
    }
    // Maintenance and the storage backends are loaded here, not at start-up: other commands never need them.
    const [
      { maintenanceOptionsFromEnv, runMaintenanceOnce },
      { backendConfigFromEnv, createBackend, DEFAULT_DATA_DIR },
    ] = await Promise.all([import("../maintenance/index.js"), import("../storage/backend.js")]);
    const config: BackendConfig =
      storage === "aws"
        ? { ...backendConfigFromEnv(io.env), storage: "aws" }
        : {
            storage: "embedded",
            dataDir: path.resolve(options.string("data-dir") ?? io.env.FLOE_DATA_DIR ?? DEFAULT_DATA_DIR),
          };
    const backend = await createBackend(config);
    try {
      const report = await runMaintenanceOnce({ backend, ...maintenanceOptionsFromEnv(io.env) });
      io.stdout.write(describeReport(report));
      return report.errors.length === 0 ? 0 : 1;
    } finally {
      await backend.close();
    }
  },
};

function describeReport(r: MaintenanceReport): string {
  const lines = [
    `Partitions visited: ${r.partitions.visited} (maintained ${r.partitions.leased}, busy elsewhere ${r.partitions.busy})`,
    `Compaction: ${r.compaction.merges} merges of ${r.compaction.segmentsMerged} segments, ${r.compaction.bytesRewritten} bytes rewritten`,
    `Retention: ${r.retention.segmentsDeleted} segments, ${r.retention.bytesDeleted} bytes deleted`,
    `Deleted topics reclaimed: ${r.reclaim.topics} (${r.reclaim.partitions} partitions, ${r.reclaim.segments} segments)`,
    `Garbage collection: ${r.gc.objectsDeleted} objects deleted (${r.gc.orphansDeleted} orphans), ${r.gc.bytesDeleted} bytes`,
  ];
  if (r.cycle) {
    lines.push(
      `Storage now: ${r.cycle.segmentsPerPartition.toFixed(1)} segments per partition, average object ${Math.round(r.cycle.averageObjectBytes)} bytes`,
    );
  }
  for (const e of r.errors) lines.push(`error: ${e.scope}: ${e.code}: ${e.message}`);
  return `${lines.join("\n")}\n`;
}
