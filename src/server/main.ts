/**
 * `floe dev` on its own, for the crash test and the benchmark (the `floe` CLI offers the same
 * through `floe dev`):  node --import tsx src/server/main.ts [--port 8092] [--host 127.0.0.1]
 *   [--storage embedded|memory|aws] [--data-dir .floe] [--profile default|low-latency|low-cost]
 *   [--linger-ms 5] [--batch-max-bytes 4MiB] [--no-auto-create-topics]
 */
import { parseArgs } from "node:util";
import { BATCHING_PROFILE_NAMES, type BatchingProfileName, parseByteSize } from "./batching-profile.js";
import { type DevServerOptions, startDevServer } from "./dev-server.js";
import { installSignalHandlers } from "./signal-handlers.js";

const STORAGES = ["memory", "embedded", "aws"] as const;

function integer(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`--${flag} must be a non-negative integer, got '${raw}'`);
  return Number(raw);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string" },
      host: { type: "string" },
      storage: { type: "string" },
      "data-dir": { type: "string" },
      "linger-ms": { type: "string" },
      "batch-max-bytes": { type: "string" },
      profile: { type: "string" },
      "no-auto-create-topics": { type: "boolean" },
    },
    strict: true,
  });
  const storage = values.storage ?? process.env.FLOE_STORAGE ?? "embedded";
  if (!STORAGES.includes(storage as (typeof STORAGES)[number])) {
    throw new Error(`--storage must be one of ${STORAGES.join(", ")}, got '${storage}'`);
  }
  const profile = values.profile;
  if (profile !== undefined && !(BATCHING_PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw new Error(`--profile must be one of ${BATCHING_PROFILE_NAMES.join(", ")}, got '${profile}'`);
  }
  const maxBatchBytes =
    values["batch-max-bytes"] === undefined ? undefined : parseByteSize(values["batch-max-bytes"]);
  if (values["batch-max-bytes"] !== undefined && maxBatchBytes === undefined) {
    throw new Error(`--batch-max-bytes must be a size such as 4MiB, got '${values["batch-max-bytes"]}'`);
  }
  const options: DevServerOptions = {
    port: integer("port", values.port),
    host: values.host,
    storage: storage as DevServerOptions["storage"],
    dataDir: values["data-dir"] ?? process.env.FLOE_DATA_DIR,
    lingerMs: integer("linger-ms", values["linger-ms"]),
    maxBatchBytes,
    profile: profile as BatchingProfileName | undefined,
    autoCreateTopics: !values["no-auto-create-topics"],
  };
  installSignalHandlers(await startDevServer(options));
}

main().catch((e: unknown) => {
  console.error(`floe dev: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
