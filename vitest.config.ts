import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Emulators (DynamoDB Local, s3rver) start once for the whole run.
    globalSetup: ["test/support/global-setup.ts"],
    setupFiles: ["test/support/node20-polyfills.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only contend with the emulators.
    maxWorkers: 2,
    // The AWS SDK warns once per worker on Node 20 that its 2027 releases need Node 22 (README, Node
    // versions); the pinned versions work, so the test output stays readable.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
