#!/usr/bin/env bash
# Installs everything KalamDB needs to build and test on Debian 12 (bookworm), as root.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  librocksdb-dev libsqlite3-dev libboost1.81-dev libboost-json1.81-dev libsodium-dev
  libzstd-dev libsnappy-dev zlib1g-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libssl-dev libcli11-dev libedit-dev libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  libraft-dev libuv1-dev  # Raft consensus (src/cluster, docs/cluster.md)
  libhnswlib-dev  # header-only HNSW graphs (src/vector, docs/vectors.md)
  python3 python3-venv python3-pip
  chromium
  # promtool (tests/e2e/test_metrics.py checks GET /metrics with Prometheus's own checker); the
  # package's daemon is stopped below where systemd runs it.
  prometheus
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Only promtool is wanted from the prometheus package, not a monitoring daemon on :9090.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus prometheus-node-exporter 2>/dev/null ||
      echo "setup: note: could not stop the prometheus service; stop it by hand if unwanted"
  fi
fi

# Test-only Python tools live in a project virtualenv (Debian forbids pip into the system).
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import pytest, websockets, requests, pyarrow, duckdb, moto, yaml, jsonschema, openapi_schema_validator, openapi_spec_validator" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
fi
# The TypeScript SDK's dev tools (TypeScript, esbuild, playwright-core, React), locked by
# sdk/typescript/package-lock.json; npm ci only when node_modules is missing or older than the lock.
# Node.js >= 20 (with npm) must already be installed.
command -v npm >/dev/null || { echo "setup: Node.js >= 20 with npm is required for the TypeScript SDK" >&2; exit 1; }
if [ ! -f sdk/typescript/node_modules/.package-lock.json ] ||
   [ sdk/typescript/package-lock.json -nt sdk/typescript/node_modules/.package-lock.json ]; then
  (cd sdk/typescript && npm ci --no-audit --no-fund --loglevel=error)
fi
# The admin console's build tools (React, CodeMirror, esbuild), locked by ui/package-lock.json.
if [ ! -f ui/node_modules/.package-lock.json ] ||
   [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: ok"
