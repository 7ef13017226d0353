#!/usr/bin/env bash
# Builds the settings UI into ui/dist, which `cargo build -p pushmail-settings` embeds.
# Needs Node 20+ and npm; installs exactly what package-lock.json pins.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
npx vite build --logLevel warn
