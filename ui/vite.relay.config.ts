import { resolve } from "node:path";

import { defineConfig } from "vite";

// The relay's web app (a PWA): relay.html + src/relay/ → dist-relay/, which the relay serves at
// its root. Separate from the settings build (vite.config.ts → dist/, embedded by Tauri), which
// this does not touch. dist-relay/ holds:
//   relay.html          the app (the relay serves it for "/": crates/relay/src/api/web.rs)
//   assets/             its script and styles (hashed names)
//   relay-sw.js         the service worker (src/relay/sw.ts), a fixed name at the root so its
//                       scope is the whole app
//   relay.webmanifest, icons/   copied verbatim from relay-public/

export default defineConfig({
  // Relative URLs: the app works at the relay's root or under a path prefix.
  base: "./",
  clearScreen: false,
  publicDir: "relay-public",
  build: {
    outDir: "dist-relay",
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts (the relay's CSP is script-src 'self').
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      input: {
        relay: resolve(__dirname, "relay.html"),
        "relay-sw": resolve(__dirname, "src/relay/sw.ts"),
      },
      output: {
        // The worker must keep its name and be one self-contained file (a classic worker
        // script cannot import); its code is not shared with the page, so nothing is split.
        entryFileNames: (chunk) => (chunk.name === "relay-sw" ? "relay-sw.js" : "assets/[name]-[hash].js"),
      },
    },
  },
  server: {
    strictPort: true,
    fs: { allow: [".."] },
  },
});
