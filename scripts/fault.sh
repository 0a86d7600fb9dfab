#!/usr/bin/env bash
# The fault suite (docs/testing.md): crash loop, reconnect chaos and soak against
# build/release's kalamdb-server, or the ThreadSanitizer build of the concurrency unit tests.
#   scripts/fault.sh [short]   ~6 min; scripts/test.sh runs it after the e2e tests
#   scripts/fault.sh long      release check, ~1.2 h (200 crash cycles, 10,000 reconnects, 1 h soak),
#                              then scripts/fuzz_api.sh (schemathesis over docs/reference/openapi.yaml)
#   scripts/fault.sh tsan      builds build/tsan; runs the commit, live, job, WebSocket/API, net and topics
#                              unit tests under ThreadSanitizer
# Extra arguments go to pytest (e.g. -k chaos).
set -euo pipefail
cd "$(dirname "$0")/.."
FORM="${1:-short}"
[ $# -gt 0 ] && shift
case "$FORM" in
  short|long)
    [ -x build/release/src/server/kalamdb-server ] || ./scripts/build.sh release
    echo "== fault suite ($FORM form) =="
    KALAMDB_FAULT_FORM="$FORM" \
      KALAMDB_SERVER_BIN="${KALAMDB_SERVER_BIN:-$PWD/build/release/src/server/kalamdb-server}" \
      .venv/bin/python -m pytest tests/fault -q -p no:cacheprovider "$@"
    if [ "$FORM" = long ]; then
      FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-300}" ./scripts/fuzz_api.sh
    fi
    ;;
  tsan)
    export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
    [ -f build/tsan/build.ninja ] || cmake --preset tsan >/dev/null
    TARGETS=(unit_commit unit_live unit_jobs unit_api unit_net unit_topics)
    cmake --build build/tsan -j2 --target "${TARGETS[@]}"
    export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
    for t in "${TARGETS[@]}"; do
      echo "== $t (ThreadSanitizer) =="
      "build/tsan/tests/unit/$t" --gtest_brief=1 "$@"
      echo "$t: passed under ThreadSanitizer"
    done
    ;;
  *)
    echo "usage: scripts/fault.sh [short|long|tsan] [pytest or gtest arguments]" >&2
    exit 2
    ;;
esac
