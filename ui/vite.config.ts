import { defineConfig } from "vite";

// The settings UI. Built into dist/, which Tauri embeds into the pushmail-settings binary.
export default defineConfig({
  // Relative asset URLs: the same build works from tauri://localhost, a test server, or file://.
  base: "./",
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts at all (the CSP forbids them); WebKitGTK supports modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  server: {
    strictPort: true,
    // The Fluent catalogs live in ../locales, shared with the Rust side.
    fs: { allow: [".."] },
  },
});
