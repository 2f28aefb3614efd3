import { createHash, randomUUID } from "node:crypto";
import type { BackendConfig } from "../storage/backend.js";

/**
 * Kafka's cluster id (22 characters of base64url, as `kafka-storage random-uuid` prints), derived
 * from where the log lives: every agent over the same bucket and table, or the same data dir,
 * reports the same cluster, with nothing to store. A memory backend is a cluster of its own.
 */
export function clusterIdOf(config: BackendConfig): string {
  const identity =
    config.storage === "aws"
      ? `aws:${config.bucket}:${config.table}`
      : config.storage === "embedded"
        ? `embedded:${config.dataDir}`
        : `memory:${randomUUID()}`;
  return createHash("sha256").update(identity).digest("base64url").slice(0, 22);
}
