#!/usr/bin/env bash
# One command from a fresh machine to a running server: set up, build, start on the embedded
# default configuration (data under ./data, port 8080). Extra arguments go to kalamdb-server.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
exec ./build/release/src/server/kalamdb-server "$@"
