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
  python3 python3-venv python3-pip
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
fi

# Test-only Python tools live in a project virtualenv (Debian forbids pip into the system).
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import pytest, websockets, requests, pyarrow, duckdb, moto, yaml, jsonschema, openapi_schema_validator, openapi_spec_validator" 2>/dev/null; then
  .venv/bin/pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt
fi
echo "setup: ok"
