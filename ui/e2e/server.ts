// A tiny static server for the built UI on 127.0.0.1 (a free port), sending the same CSP
// header the Tauri shell enforces, read from src-tauri/tauri.conf.json. Flows that pass here
// therefore also prove the app needs no inline script, eval or remote origin.

import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

/** The `app.security.csp` object of tauri.conf.json as a header value. */
export async function tauriCsp(confPath: string): Promise<string> {
  const conf = JSON.parse(await readFile(confPath, "utf8")) as {
    app: { security: { csp: Record<string, string | string[]> | string } };
  };
  const csp = conf.app.security.csp;
  if (typeof csp === "string") return csp;
  return Object.entries(csp)
    .map(([directive, value]) => `${directive} ${Array.isArray(value) ? value.join(" ") : value}`)
    .join("; ");
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function serve(root: string, csp: string): Promise<StaticServer> {
  const base = resolve(root);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
      const file = normalize(join(base, path === "/" ? "index.html" : path));
      if (!file.startsWith(base)) {
        res.writeHead(403).end();
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, {
          "content-type": TYPES[extname(file)] ?? "application/octet-stream",
          "content-security-policy": csp,
          "cache-control": "no-store",
        });
        res.end(body);
      } catch {
        res.writeHead(404, { "content-security-policy": csp }).end();
      }
    })();
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
