/**
 * Backend selection: memory (tests), embedded (files + SQLite, `floe dev`), aws (S3 + DynamoDB, or
 * any emulator speaking their APIs). See DESIGN.md §10.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { FloeError } from "../errors.js";
import { awsErrorName, toStorageError } from "./aws-errors.js";
import { DynamoDbMetaStore, ensureTable } from "./dynamodb-meta-store.js";
import { FsObjectStore } from "./fs-object-store.js";
import { MemoryMetaStore } from "./memory-meta-store.js";
import { MemoryObjectStore } from "./memory-object-store.js";
import type { Backend, MetaStore, ObjectStore } from "./ports.js";
import { S3ObjectStore } from "./s3-object-store.js";
import { SqliteMetaStore } from "./sqlite-meta-store.js";

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
  switch (config.storage) {
    case "memory":
      return assemble("memory", new MemoryObjectStore(), new MemoryMetaStore());
    case "embedded": {
      const dataDir = path.resolve(config.dataDir ?? DEFAULT_DATA_DIR);
      try {
        await mkdir(dataDir, { recursive: true });
      } catch (e) {
        throw new FloeError(
          "INVALID_CONFIG",
          `cannot create data directory ${dataDir}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      const objects = new FsObjectStore(path.join(dataDir, "objects"));
      const meta = new SqliteMetaStore(path.join(dataDir, "meta.db"));
      return assemble("embedded", objects, meta);
    }
    case "aws":
      return createAwsBackend(config);
    default:
      throw new FloeError(
        "INVALID_CONFIG",
        `unknown storage ${JSON.stringify((config as { storage: unknown }).storage)}; expected ${KINDS.join(", ")}`,
      );
  }
}

async function createAwsBackend(config: BackendConfig): Promise<Backend> {
  const { bucket, table } = config;
  if (!bucket || !table) {
    const missing = [!bucket && "bucket (FLOE_BUCKET)", !table && "table (FLOE_TABLE)"].filter(Boolean);
    throw new FloeError("INVALID_CONFIG", `storage "aws" needs ${missing.join(" and ")} to be set`);
  }
  // Read explicitly rather than trusting every SDK version to honour these variables itself,
  // and because an S3 endpoint also decides path-style addressing.
  const env = process.env;
  const s3Endpoint = config.s3Endpoint ?? (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined);
  const dynamodbEndpoint =
    config.dynamodbEndpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined);
  // Emulators ignore the region but the SDK insists on one.
  const region =
    config.region ??
    (env.AWS_REGION || env.AWS_DEFAULT_REGION || (s3Endpoint || dynamodbEndpoint ? "us-east-1" : undefined));

  const s3Config: S3ClientConfig = {
    region,
    credentials: config.credentials,
    ...(s3Endpoint
      ? {
          endpoint: s3Endpoint,
          forcePathStyle: true,
          // S3-compatible servers rarely implement the SDK's default CRC32 request checksums.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
        }
      : {}),
  };
  const dynamoConfig: DynamoDBClientConfig = {
    region,
    credentials: config.credentials,
    ...(dynamodbEndpoint ? { endpoint: dynamodbEndpoint } : {}),
  };
  const s3 = new S3Client(s3Config);
  const dynamo = new DynamoDBClient(dynamoConfig);
  try {
    if (config.createIfMissing) {
      await Promise.all([ensureBucket(s3, bucket), ensureTable(dynamo, table)]);
    }
  } catch (e) {
    s3.destroy();
    dynamo.destroy();
    throw e;
  }
  // The stores own nothing here: the backend destroys the clients once both stores are closed.
  const objects = new S3ObjectStore({ bucket, client: s3 });
  const meta = new DynamoDbMetaStore({ table, client: dynamo });
  return assemble("aws", objects, meta, () => {
    s3.destroy();
    dynamo.destroy();
  });
}

/** Creates the bucket unless it exists. For emulators and development. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (e) {
    const name = awsErrorName(e);
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (name !== "NotFound" && name !== "NoSuchBucket" && status !== 404) {
      throw toStorageError(e, `S3 HeadBucket ${bucket}`);
    }
  }
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (awsErrorName(e) === "BucketAlreadyOwnedByYou") return;
    throw toStorageError(e, `S3 CreateBucket ${bucket}`);
  }
}

function assemble(
  kind: StorageKind,
  objects: ObjectStore,
  meta: MetaStore,
  after?: () => void | Promise<void>,
): Backend {
  let closing: Promise<void> | undefined;
  return {
    kind,
    objects,
    meta,
    close() {
      closing ??= (async () => {
        const results = await Promise.allSettled([objects.close(), meta.close()]);
        await after?.();
        const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
        if (failed) throw failed.reason;
      })();
      return closing;
    },
  };
}
