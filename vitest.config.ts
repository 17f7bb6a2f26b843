import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    // Start hooks wait for processes with waitForLine and waitForGatewayReady (45 s each): a
    // hook's own limit above theirs lets their error name the process that did not come up.
    hookTimeout: 60_000,
    // The global teardown waits up to 35 s for the run's processes to end (test/support/leftovers.ts);
    // past this Vitest exits without its verdict.
    teardownTimeout: 60_000,
    // expect.poll waits for a condition; give a busy CI machine room (the default is 1 s).
    expect: { poll: { timeout: 10_000, interval: 20 } },
  },
});
