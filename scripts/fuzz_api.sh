#!/usr/bin/env bash
# Property-based fuzzing of the HTTP API against docs/reference/openapi.yaml with schemathesis:
# starts build/release's kalamdb-server on a free port with a temporary data directory, logs in as
# root, and lets schemathesis generate requests for every operation (valid and invalid bodies).
# Fails on any 5xx answer, any answer off the document (status, content type, body schema), or a
# server that is no longer healthy afterwards.
#   scripts/fuzz_api.sh                 FUZZ_EXAMPLES=100 examples per operation (default)
#   FUZZ_EXAMPLES=20 FUZZ_CONSUME_SECS=60 scripts/fuzz_api.sh
#                                       (consume long-polls, so it runs on a time budget)
# Extra arguments go to `schemathesis run` (e.g. --seed 1 --include-path /v1/api/sql).
# schemathesis lives in its own virtualenv (build/fuzz-venv), apart from the test venv.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${FUZZ_EXAMPLES:-100}"
BIN="${KALAMDB_SERVER_BIN:-$PWD/build/release/src/server/kalamdb-server}"
[ -x "$BIN" ] || ./scripts/build.sh release
VENV=build/fuzz-venv
if ! "$VENV/bin/schemathesis" --version >/dev/null 2>&1; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check 'schemathesis>=4,<5'
fi

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
PASSWORD="fuzz-root-password"
cat > "$WORK/server.toml" <<TOML
[rate_limit]
max_auth_requests_per_ip_per_sec = 0
[limits]
max_body_bytes = 65536
TOML
KALAMDB_SERVER_HOST=127.0.0.1 KALAMDB_SERVER_PORT="$PORT" KALAMDB_DATA_DIR="$WORK/data" \
  KALAMDB_ROOT_PASSWORD="$PASSWORD" KALAMDB_LOG_LEVEL=warn \
  "$BIN" "$WORK/server.toml" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.1; done
TOKEN="$(curl -sf -X POST "$BASE/v1/api/auth/login" \
  -d "{\"user\":\"root\",\"password\":\"$PASSWORD\"}" |
  python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')"
# The objects the document's examples name (app.orders, topic app.events).
curl -sf -X POST "$BASE/v1/api/sql" -H "Authorization: Bearer $TOKEN" -d '{"sql":
  "CREATE NAMESPACE app; CREATE SHARED TABLE app.orders (id INT PRIMARY KEY, note TEXT); CREATE TOPIC app.events PARTITIONS 1; ALTER TOPIC app.events ADD SOURCE app.orders ON INSERT; INSERT INTO app.orders (id, note) VALUES (1, '"'"'a'"'"'), (2, '"'"'b'"'"')"}' >/dev/null

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
run() { "$VENV/bin/schemathesis" run docs/reference/openapi.yaml --url "$BASE" \
          -H "Authorization: Bearer $TOKEN" --checks "$CHECKS" --request-timeout 75 --no-color "$@"; }
status=0
echo "== schemathesis: $EXAMPLES examples per operation against $BASE =="
run --exclude-path /v1/api/topics/consume --max-examples "$EXAMPLES" --workers 2 "$@" || status=$?
# A consume may long-poll up to 60 s, so it gets a time budget instead of an example count.
echo "== schemathesis: POST /v1/api/topics/consume for ${FUZZ_CONSUME_SECS:-120} s =="
run --include-path /v1/api/topics/consume --max-examples "$EXAMPLES" --workers 8 \
  --max-time "${FUZZ_CONSUME_SECS:-120}" "$@" || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null || ! curl -sf "$BASE/health" >/dev/null; then
  echo "fuzz_api: the server died or is unhealthy after the run; log:" >&2
  tail -50 "$WORK/server.log" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "fuzz_api: schemathesis found problems (exit $status)" >&2
  exit "$status"
fi
echo "fuzz_api: ok (no 5xx, every answer on the document, server healthy)"
