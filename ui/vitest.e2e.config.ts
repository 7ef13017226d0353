import { defineConfig } from "vitest/config";

// Browser flows: Debian's Chromium driven by playwright-core against the built UI.
export default defineConfig({
  test: {
    environment: "node",
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
