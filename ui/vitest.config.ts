import { defineConfig } from "vitest/config";

// Unit tests of the IPC layer and the pages, in jsdom, with Tauri's mockIPC.
export default defineConfig({
  // The Fluent catalogs live in ../locales.
  server: { fs: { allow: [".."] } },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
  },
});
