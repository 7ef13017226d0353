import { defineConfig } from "vite";

// Builds the test bootstrap (mockIPC + the fake backend) as one classic script that
// Playwright injects before the built app runs. Never part of the shipped UI.
export default defineConfig({
  build: {
    outDir: "e2e/dist",
    emptyOutDir: true,
    target: "es2022",
    lib: {
      entry: "e2e/bootstrap.ts",
      formats: ["iife"],
      name: "PushmailE2E",
      fileName: () => "bootstrap.js",
    },
    minify: false,
  },
});
