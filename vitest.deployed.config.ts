import { defineConfig } from "vitest/config";

/**
 * The deployed tier (`npm run test:deployed`): the real CDK stack deployed with cdklocal to
 * LocalStack 4.14 on loopback (test/deployed/global-setup.ts), and the tests under test/deployed/
 * against its API. `npm test` (vitest.config.ts) never picks these files up: its include is
 * test/**, so they are excluded there by name (*.deployed.ts).
 */
export default defineConfig({
  test: {
    include: ["test/deployed/**/*.deployed.ts"],
    globalSetup: ["test/deployed/global-setup.ts"],
    setupFiles: ["test/support/node20-polyfills.ts"],
    // One stack, one LocalStack: the files share it, one at a time, on two cores.
    fileParallelism: false,
    testTimeout: 180_000,
    // Installing LocalStack on an empty cache, starting it, and deploying the stack.
    hookTimeout: 1_200_000,
    teardownTimeout: 300_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
