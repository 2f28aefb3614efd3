/** The aws backend: S3 for objects, DynamoDB for metadata, or any emulator speaking their APIs. */
import { DynamoDBClient, type DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { FloeError } from "../errors.js";
import { awsErrorName, toStorageError } from "./aws-errors.js";
import type { BackendConfig } from "./backend.js";
import { DynamoDbMetaStore, ensureTable } from "./dynamodb-meta-store.js";
import type { MetaStore, ObjectStore } from "./ports.js";
import { S3ObjectStore } from "./s3-object-store.js";

export async function createAwsBackend(
  config: BackendConfig,
): Promise<{ objects: ObjectStore; meta: MetaStore; destroy: () => void }> {
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
  return {
    objects,
    meta,
    destroy: () => {
      s3.destroy();
      dynamo.destroy();
    },
  };
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
    // Agents started side by side race to create it, and some S3 servers (s3rver) tell the loser
    // "BucketAlreadyExists" even when it is the caller's: it is usable if we can reach it now.
    if (awsErrorName(e) === "BucketAlreadyExists" && (await reachable(client, bucket))) return;
    throw toStorageError(e, `S3 CreateBucket ${bucket}`);
  }
}

async function reachable(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch {
    return false;
  }
}
