/**
 * Every backend the conformance suites run against. Each `create()` returns a fresh, isolated
 * backend: new memory stores; a new temp directory (removed on close); a new random table and bucket
 * on the emulators (left for the emulator to discard); the same against LocalStack when
 * LOCALSTACK_ENDPOINT is set.
 *
 *   describe.each(testBackends)("$name", ({ create }) => { ... await create() ... })
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createBackend } from "../../src/storage/backend.js";
import type { Backend } from "../../src/storage/ports.js";
import { emulatorEndpoints } from "./emulators.js";

export type TestBackendName = "memory" | "embedded" | "aws" | "localstack";

export interface TestBackend {
  name: TestBackendName;
  create(): Promise<Backend>;
}

const DUMMY_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** S3 bucket names: 3-63 chars of [a-z0-9-]; DynamoDB table names allow those too. */
function uniqueName(kind: string): string {
  return `floe-test-${kind}-${randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

async function createAws(s3Endpoint: string, dynamodbEndpoint: string, region: string): Promise<Backend> {
  return createBackend({
    storage: "aws",
    bucket: uniqueName("bucket"),
    table: uniqueName("table"),
    region,
    s3Endpoint,
    dynamodbEndpoint,
    credentials: DUMMY_CREDENTIALS,
    createIfMissing: true,
  });
}

function buildTestBackends(): TestBackend[] {
  const backends: TestBackend[] = [
    { name: "memory", create: () => createBackend({ storage: "memory" }) },
    {
      name: "embedded",
      async create() {
        const dataDir = await mkdtemp(path.join(tmpdir(), "floe-embedded-"));
        const backend = await createBackend({ storage: "embedded", dataDir });
        return {
          ...backend,
          async close() {
            try {
              await backend.close();
            } finally {
              await rm(dataDir, { recursive: true, force: true });
            }
          },
        };
      },
    },
  ];
  const emulators = emulatorEndpoints();
  if (emulators) {
    backends.push({
      name: "aws",
      create: () => createAws(emulators.s3Endpoint, emulators.dynamodbEndpoint, emulators.region),
    });
  }
  const localstack = process.env.LOCALSTACK_ENDPOINT;
  if (localstack) {
    backends.push({
      name: "localstack",
      create: () => createAws(localstack, localstack, process.env.AWS_REGION || "us-east-1"),
    });
  }
  return backends;
}

export const testBackends: TestBackend[] = buildTestBackends();
