#!/usr/bin/env bash
# Every check of the settings UI, in the order a failure is cheapest to read:
# install (locked) → type check (strict) → unit tests (Vitest + mockIPC) → production build →
# browser flows (Debian's Chromium via playwright-core against the built UI, with the shell's
# CSP). The flows also write docs/screenshots/settings-*.png. The relay's web app (relay.html,
# src/relay/) is checked alongside: its unit tests run with the others, it is built into
# dist-relay/ (vite.relay.config.ts), and its flows (e2e/relay.e2e.ts, against a fake relay with
# the relay's CSP) write docs/screenshots/relay-*.png.
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
echo "== ui: vite build (relay web app → dist-relay/)"
npx vite build --config vite.relay.config.ts --logLevel warn
echo "== ui: browser flows (chromium)"
npx vitest run --config vitest.e2e.config.ts
