#!/usr/bin/env bash
# Runs the whole test suite: set-up, release build, gtest unit tests (ctest), the pytest
# end-to-end tests against the real kalamdb-server binary, the TypeScript SDK's Node and browser
# tests (scripts/sdk_test.sh), the admin console's browser tests (scripts/ui_test.sh), then the fault suite's short form
# (crash loop, reconnect chaos, soak; docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
echo "== unit tests (ctest) =="
ctest --test-dir build/release --output-on-failure -j2
echo "== end-to-end tests (pytest) =="
KALAMDB_SERVER_BIN="$PWD/build/release/src/server/kalamdb-server" \
  .venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider "$@"
KALAMDB_SERVER_BIN="$PWD/build/release/src/server/kalamdb-server" ./scripts/sdk_test.sh
KALAMDB_SERVER_BIN="$PWD/build/release/src/server/kalamdb-server" ./scripts/ui_test.sh
./scripts/fault.sh short
