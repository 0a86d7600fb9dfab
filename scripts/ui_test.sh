#!/usr/bin/env bash
# Builds the admin console (ui/) and runs its browser tests against the real kalamdb-server:
# npm ci, type check, build, then the headless-Chromium tests (the system's /usr/bin/chromium
# through playwright-core; a browser is never downloaded), which also take screenshots of every
# page into ui/test-results/ (UI_SCREENSHOTS_DIR=$PWD/docs/images refreshes the docs' copies). Server: $KALAMDB_SERVER_BIN, else build/release/src/server/kalamdb-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export KALAMDB_SERVER_BIN="${KALAMDB_SERVER_BIN:-$PWD/build/release/src/server/kalamdb-server}"
[ -x "$KALAMDB_SERVER_BIN" ] || { echo "ui_test: no server binary at $KALAMDB_SERVER_BIN (scripts/build.sh release)" >&2; exit 1; }
cd ui
echo "== admin console: npm ci, type check, build =="
npm ci --no-audit --no-fund --loglevel=error
npm run --silent typecheck
npm run --silent build
echo "== admin console: browser tests (headless Chromium) =="
npm test --silent
