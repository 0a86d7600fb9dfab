#!/usr/bin/env bash
# Configures and builds a CMake preset (default: release) with ccache and -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-release}"
# Let ccache share results between checkouts in different directories (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ -f "build/$PRESET/build.ninja" ] || cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"
