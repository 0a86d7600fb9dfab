#!/usr/bin/env bash
# Configures and builds a CMake preset (default: release) with ccache and -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-release}"
[ -f "build/$PRESET/build.ninja" ] || cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"
