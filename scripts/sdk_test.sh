#!/usr/bin/env bash
# Builds and tests the TypeScript SDK (sdk/typescript: @kalamdb/client and @kalamdb/react) against
# the real kalamdb-server: npm ci, build, Node tests, then the headless-Chromium tests (the
# system's /usr/bin/chromium through playwright-core; a browser is never downloaded).
# Server: $KALAMDB_SERVER_BIN, else build/release/src/server/kalamdb-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export KALAMDB_SERVER_BIN="${KALAMDB_SERVER_BIN:-$PWD/build/release/src/server/kalamdb-server}"
[ -x "$KALAMDB_SERVER_BIN" ] || { echo "sdk_test: no server binary at $KALAMDB_SERVER_BIN (scripts/build.sh release)" >&2; exit 1; }
cd sdk/typescript
echo "== TypeScript SDK: npm ci, build =="
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
echo "== TypeScript SDK: node tests =="
npm run --silent test:node
echo "== TypeScript SDK: browser tests (headless Chromium) =="
npm run --silent test:browser
npm run --silent size
