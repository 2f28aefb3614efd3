/**
 * Backend selection: memory (tests), embedded (files + SQLite, `floe dev`), aws (S3 + DynamoDB, or
 * any emulator speaking their APIs). See docs/architecture.md §10.
 */
import { makeDirectory } from "./make-directory.js";
import path from "node:path";
import { FloeError } from "../errors.js";
import { DEFAULT_FLUSH_POLICY, type FlushPolicy, storeSyncModes } from "./flush-policy.js";
import { MemoryMetaStore } from "./memory-meta-store.js";
import { MemoryObjectStore } from "./memory-object-store.js";
import type { Backend, MetaStore, ObjectStore } from "./ports.js";

export type StorageKind = Backend["kind"];

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface BackendConfig {
  storage: StorageKind;
  /** embedded: objects under {dataDir}/objects, SQLite at {dataDir}/meta.db. Default ".floe". */
  dataDir?: string;
  /**
   * embedded: when acknowledged writes are forced to disk (Kafka's log.flush.interval.*, decision
   * 0010). Default Kafka's: never, the OS page cache. The other backends refuse it: S3 and
   * DynamoDB are durable on every request, memory never is.
   */
  flush?: FlushPolicy;
  /** aws: the S3 bucket holding segment objects. */
  bucket?: string;
  /** aws: the DynamoDB table holding metadata. */
  table?: string;
  region?: string;
  /** aws: create the table and bucket if missing (for emulators and development). */
  createIfMissing?: boolean;
  /**
   * aws: endpoint for S3 (default: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL). Setting one makes
   * S3 requests path-style, as emulators and most S3-compatible stores need.
   */
  s3Endpoint?: string;
  /** aws: endpoint for DynamoDB (default: AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL). */
  dynamodbEndpoint?: string;
  /** aws: explicit credentials (emulators); otherwise the SDK's default provider chain. */
  credentials?: AwsCredentials;
}

export const DEFAULT_DATA_DIR = ".floe";

const KINDS: readonly StorageKind[] = ["memory", "embedded", "aws"];

/** FLOE_STORAGE (default embedded), FLOE_DATA_DIR, FLOE_BUCKET, FLOE_TABLE, AWS_REGION, AWS_ENDPOINT_URL*. */
export function backendConfigFromEnv(env: NodeJS.ProcessEnv = process.env): BackendConfig {
  const storage = (env.FLOE_STORAGE?.trim() || "embedded") as StorageKind;
  if (!KINDS.includes(storage)) {
    throw new FloeError(
      "INVALID_CONFIG",
      `FLOE_STORAGE must be one of ${KINDS.join(", ")}; got ${JSON.stringify(env.FLOE_STORAGE)}`,
    );
  }
  const config: BackendConfig = { storage };
  const set = <K extends keyof BackendConfig>(k: K, v: BackendConfig[K] | undefined) => {
    if (v !== undefined && v !== "") config[k] = v;
  };
  set("dataDir", env.FLOE_DATA_DIR);
  set("bucket", env.FLOE_BUCKET);
  set("table", env.FLOE_TABLE);
  set("region", env.AWS_REGION || env.AWS_DEFAULT_REGION);
  set("s3Endpoint", env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  set("dynamodbEndpoint", env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL);
  return config;
}

export async function createBackend(config: BackendConfig): Promise<Backend> {
  if (config.flush !== undefined && config.storage !== "embedded") {
    throw new FloeError(
      "INVALID_CONFIG",
      `log.flush.interval.* applies to the embedded backend only; ${config.storage} storage ${config.storage === "aws" ? "is durable on every request" : "is never durable"}`,
    );
  }
  switch (config.storage) {
    case "memory":
      return assemble("memory", new MemoryObjectStore(), new MemoryMetaStore());
    case "embedded": {
      const dataDir = path.resolve(config.dataDir ?? DEFAULT_DATA_DIR);
      try {
        await makeDirectory(dataDir);
      } catch (e) {
        throw new FloeError(
          "INVALID_CONFIG",
          `cannot create data directory ${dataDir}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      // Loaded on demand: better-sqlite3 is a native module that a Lambda bundle does not carry.
      const [{ FsObjectStore }, { SqliteMetaStore }, { Flusher }] = await Promise.all([
        import("./fs-object-store.js"),
        import("./sqlite-meta-store.js"),
        import("./flusher.js"),
      ]);
      const modes = storeSyncModes(config.flush ?? DEFAULT_FLUSH_POLICY);
      const objects = new FsObjectStore(path.join(dataDir, "objects"), { fsync: modes.objects });
      const meta = new SqliteMetaStore(path.join(dataDir, "meta.db"), {
        fsyncEachCommit: modes.metaSyncEachCommit,
      });
      if (modes.flushIntervalMs === undefined) return assemble("embedded", objects, meta);
      const flusher = new Flusher(objects, meta, (error) =>
        // The store now refuses writes (SqliteMetaStore.fail); this says why, once.
        console.error(`floe: log flush failed, no more writes are taken: ${(error as Error).message}`),
      );
      flusher.start(modes.flushIntervalMs);
      return assemble("embedded", objects, meta, undefined, () => flusher.close());
    }
    case "aws": {
      // Loaded on demand so `floe dev` on files never pays for the AWS SDK.
      const { createAwsBackend } = await import("./aws-backend.js");
      const { objects, meta, destroy } = await createAwsBackend(config);
      return assemble("aws", objects, meta, destroy);
    }
    default:
      throw new FloeError(
        "INVALID_CONFIG",
        `unknown storage ${JSON.stringify((config as { storage: unknown }).storage)}; expected ${KINDS.join(", ")}`,
      );
  }
}

export function assemble(
  kind: StorageKind,
  objects: ObjectStore,
  meta: MetaStore,
  after?: () => void | Promise<void>,
  before?: () => Promise<void>,
): Backend {
  let closing: Promise<void> | undefined;
  return {
    kind,
    objects,
    meta,
    close() {
      closing ??= (async () => {
        const flushed = await Promise.allSettled([before?.()]);
        const results = [...flushed, ...(await Promise.allSettled([objects.close(), meta.close()]))];
        await after?.();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
      })();
      return closing;
    },
  };
}
