#!/usr/bin/env bash
# Configures and builds a CMake preset (default: release) with ccache and -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-release}"
# Let ccache share results between checkouts in different directories (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
[ -f "build/$PRESET/build.ninja" ] || cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET"

# The admin console (ui/, docs/console.md): built with npm (dependencies from ui/package-lock.json,
# installed by scripts/setup.sh) and installed as build/$PRESET/src/server/ui, next to the server
# binary, where the server finds it. Skipped when nothing under ui/ or the SDK's sources changed
# since the last build, and (with a note) when npm or ui/node_modules is missing.
UI_DEST="build/$PRESET/src/server/ui"
UI_STAMP="build/$PRESET/ui.stamp"
if ! command -v npm >/dev/null || [ ! -d ui/node_modules ]; then
  echo "build: admin console not built (needs Node.js and npm ci in ui/; run scripts/setup.sh)" >&2
elif [ ! -f "$UI_STAMP" ] || [ ! -f "$UI_DEST/index.html" ] ||
     [ -n "$(find ui/src ui/index.html ui/build.mjs ui/package-lock.json sdk/typescript/src -newer "$UI_STAMP" -print -quit)" ]; then
  (cd ui && npm run --silent build)
  rm -rf "$UI_DEST"
  cp -r ui/dist "$UI_DEST"
  touch "$UI_STAMP"
fi
