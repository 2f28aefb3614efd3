import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Emulators (DynamoDB Local, s3rver) start once for the whole run.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only contend with the emulators.
    maxWorkers: 2,
  },
});
