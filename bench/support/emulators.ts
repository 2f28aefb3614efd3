import setupEmulators from "../../test/support/global-setup.js";

/** Where the tests' emulators listen, and how to stop them. */
export interface Emulators {
  s3Endpoint: string;
  dynamodbEndpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and s3rver as the tests do: their harness is vitest's globalSetup, which
 * only needs somewhere to put the endpoints it provides.
 */
export async function startEmulators(): Promise<Emulators> {
  const provided: Record<string, unknown> = {};
  const stop = await setupEmulators({ provide: (k: string, v: unknown) => (provided[k] = v) } as never);
  const endpoints = provided.floeEmulators as Omit<Emulators, "stop">;
  return { ...endpoints, stop };
}
