#!/usr/bin/env bash
# Every example of examples/ and the conformance kit against a live server: a throw-away
# embedded SQLite database with the demo world, tasks in-process, a free port; the server is
# stopped and everything removed on exit. Fails when any example or scenario fails.
#   JUNIT=out.xml scripts/run_examples.sh   keeps the kit's JUnit XML
# Node.js is needed for examples/node (`npm ci` there, which `make examples` runs); without it
# that example is skipped with a message, and with REQUIRE_SERVICES=1 (CI) the run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
started=$(date +%s)
work=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

unset DATABASE_URL DATABASE_REPLICA_URL CELERY_BROKER_URL REST_CACHE_URL
export SQLITE_PATH="$work/presence.sqlite3" DEMO_CREDENTIALS_DIR="$work/demo" DJANGO_DEBUG=0
keys=$DEMO_CREDENTIALS_DIR

echo "== a throw-away server with the demo world ($work)"
"$BIN/python" manage.py migrate --no-input -v0
"$BIN/python" manage.py seed_demo >"$work/seed.log"
# A second enterprise client, of another enterprise: the kit's duplicates-from-two-senders scenario.
"$BIN/python" manage.py shell -c 'from registrations.services.demo import create_demo_client; from registrations.models import ClientRole; create_demo_client("Second sender (examples)", "0202239951", ClientRole.ENTERPRISE, "second")'
"$BIN/python" manage.py demo_sheet --json >"$work/sheet.json"
port=$("$BIN/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$BIN/python" manage.py runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    "$BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "$base/REST/presenceRegistration/v1/openapi.json" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.2
done

failed=()
run() {  # run NAME COMMAND...: report, and remember a failure
    echo "== $1"
    if "${@:2}"; then echo "-- $1: passed"; else echo "-- $1: FAILED"; failed+=("$1"); fi
}
common=(--base-url "$base" --credentials-dir "$keys" --sheet "$work/sheet.json")
# Each example takes its own worker (--pick): one person's IN/OUT state is one at a time.
run "examples/python/soap_zeep.py" "$BIN/python" examples/python/soap_zeep.py "${common[@]}" --pick 1
run "examples/python/rest_requests.py" "$BIN/python" examples/python/rest_requests.py "${common[@]}" --pick 1
if command -v node >/dev/null && [ -d examples/node/node_modules/soap ]; then
    run "examples/node/example.js" node examples/node/example.js "${common[@]}" --pick 2
elif [ "${REQUIRE_SERVICES:-0}" = "1" ]; then
    echo "!! examples/node needs Node.js and \`npm ci\` in examples/node (make examples): failing"
    failed+=("examples/node/example.js")
else
    echo "!! examples/node/example.js NOT RUN: needs Node.js and \`npm ci\` in examples/node (make examples)"
fi
run "conformance kit" "$BIN/python" manage.py conformance \
    --soap-url "$base/PresenceRegistration/v1" --rest-url "$base/REST/presenceRegistration/v1" \
    --certificate "$keys/enterprise.cert.pem" --key "$keys/enterprise.key.pem" \
    --client-id "$(cat "$keys/enterprise.client-id")" --data "$work/sheet.json" \
    --consult-client-id "$(cat "$keys/inspection.client-id")" \
    --consult-certificate "$keys/inspection.cert.pem" --consult-key "$keys/inspection.key.pem" \
    --second-client-id "$(cat "$keys/second.client-id")" \
    --second-certificate "$keys/second.cert.pem" --second-key "$keys/second.key.pem" \
    --rate-limit --junit "${JUNIT:-$work/conformance.xml}"

echo "== examples and conformance kit: $(($(date +%s) - started)) s"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]} (server log: kept below)"
    tail -50 "$work/server.log"
    exit 1
fi
