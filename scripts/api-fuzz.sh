#!/usr/bin/env bash
# Schemathesis against the OpenAPI schema of a running foodrisk: every operation, with the server-error and
# response-schema checks; any 5xx or any response that does not match the schema fails the run (issue 12).
#
#   FOODRISK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/foodrisk_fuzz scripts/api-fuzz.sh
#
# The database named there is DROPPED and recreated (SQLite in a temporary directory when unset), migrated,
# seeded with a small synthetic city, and served by gunicorn on a free loopback port (FUZZ_PORT to choose).
# An API token of the demo system administrator authenticates the schema download and every request.
# Bounds: FUZZ_MAX_EXAMPLES cases per operation and phase (default 8), FUZZ_MAX_TIME seconds for the whole
# schemathesis run (default 300), FUZZ_SEED the generator's seed (fixed, so CI reruns the same cases), FUZZ_ENTERPRISES in the city (default 120). Reports: var/api-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-8}
MAX_TIME=${FUZZ_MAX_TIME:-300}
ENTERPRISES=${FUZZ_ENTERPRISES:-120}
REPORT_DIR=${FUZZ_REPORT_DIR:-var/api-fuzz}
log() { printf '\n--- api-fuzz: %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export FOODRISK_VAR_DIR="$work/var" FOODRISK_MEDIA_ROOT="$work/var/media"
export FOODRISK_DATABASE_URL=${FOODRISK_DATABASE_URL:-sqlite:///$work/fuzz.sqlite3}
export FOODRISK_LOG_LEVEL=${FOODRISK_LOG_LEVEL:-ERROR}
unset FOODRISK_TESTING
mkdir -p "$FOODRISK_VAR_DIR" "$REPORT_DIR"

log "fresh database"
"$BIN/python" - <<'EOF'
import os

import dj_database_url
import psycopg

cfg = dj_database_url.parse(os.environ["FOODRISK_DATABASE_URL"])
if "postgresql" in cfg["ENGINE"]:
    name = cfg["NAME"]
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"api-fuzz: refusing to drop the database {name!r}; give the fuzz run its own")
    with psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"],
                         password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
EOF
"$BIN/foodrisk" migrate --no-input -v0
"$BIN/foodrisk" seed
"$BIN/foodrisk" demo_accounts >/dev/null
log "synthetic city of $ENTERPRISES enterprises"
"$BIN/foodrisk" demo_data --enterprises "$ENTERPRISES" --years 2 | tail -n 3
token=$("$BIN/foodrisk" drf_create_token admin | awk '{print $3}')

port=${FUZZ_PORT:-$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
base="http://127.0.0.1:$port"
log "gunicorn on $base"
"$BIN/gunicorn" foodrisk.wsgi -b "127.0.0.1:$port" -w 2 --threads 2 --timeout 120 \
  --access-logfile /dev/null 2>"$REPORT_DIR/server.log" &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fs -o "$work/schema.json" -H "Authorization: Token $token" "$base/api/schema/?format=json" && break
  kill -0 "$server_pid" 2>/dev/null || { echo "api-fuzz: the server did not start"; cat "$REPORT_DIR/server.log"; exit 1; }
  sleep 1
done
[ -s "$work/schema.json" ] || { echo "api-fuzz: no schema from $base/api/schema/"; exit 1; }

log "schemathesis: ≤ $MAX_EXAMPLES examples per operation, ≤ ${MAX_TIME}s"
status=0
"$BIN/schemathesis" run "$work/schema.json" --url "$base" -H "Authorization: Token $token" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing,stateful --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" \
  --workers 2 --request-timeout 60 --no-color --suppress-health-check all --seed "${FUZZ_SEED:-20261203}" \
  --report junit --report-dir "$REPORT_DIR" || status=$?
if grep -q "Traceback" "$REPORT_DIR/server.log"; then  # a 5xx schemathesis did not see, e.g. in a worker thread
  echo "api-fuzz: the server logged errors (see $REPORT_DIR/server.log)"
  [ "$status" -ne 0 ] || status=1
fi
log "done (exit $status)"
exit "$status"
