#!/usr/bin/env bash
# Every check of the settings UI, in the order a failure is cheapest to read:
# install (locked) → type check (strict) → unit tests (Vitest + mockIPC) → production build →
# browser flows (Debian's Chromium via playwright-core against the built UI, with the shell's
# CSP). The flows also write docs/screenshots/settings-*.png.
set -euo pipefail
cd "$(dirname "$0")"

chromium="${PUSHMAIL_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "error: $chromium is missing: apt-get install chromium (or set PUSHMAIL_CHROMIUM)" >&2
  exit 1
fi

echo "== ui: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== ui: tsc --noEmit"
npx tsc --noEmit
echo "== ui: vitest"
npx vitest run
echo "== ui: vite build"
npx vite build --logLevel warn
npx vite build --config vite.e2e.config.ts --logLevel warn
echo "== ui: browser flows (chromium)"
npx vitest run --config vitest.e2e.config.ts
