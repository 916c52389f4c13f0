import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", "dist/**", "gen/**"],
    globalSetup: ["test/support/global-setup.ts"],
    // Liveness bounds, not speed checks: a loaded 2-core machine is slow.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // System tests start servers and agent processes; two cores are shared.
    maxWorkers: 2,
  },
});
