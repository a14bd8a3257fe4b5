#!/usr/bin/env bash
# The whole suite, in two passes:
#   1. the embedded default: SQLite, tasks in-process (no service needed);
#   2. PostgreSQL + Redis, with real Celery workers where a test needs one.
# Pass 2 runs when both services answer. Where they don't, it says which tests did not run;
# with REQUIRE_SERVICES=1 (CI) that, or any skipped service-backed test, fails the run.
set -euo pipefail
BIN=${BIN:-.venv/bin}
TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/presence}
TEST_REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

echo "== pass 1: embedded default (SQLite, in-process tasks)"
env -u DATABASE_URL -u CELERY_BROKER_URL TEST_REDIS_URL="$TEST_REDIS_URL" \
    "$BIN/pytest" -q "$@"

# The server answers on its maintenance database (the tests create test_<name> themselves), whatever
# the database name in the URL: "presence_mine" must not become "postgres_mine".
pg_up() { "$BIN/python" -c "import psycopg,sys; from psycopg.conninfo import make_conninfo; psycopg.connect(make_conninfo(sys.argv[1], dbname='postgres', connect_timeout=3)).close()" "$TEST_DATABASE_URL" 2>/dev/null; }
redis_up() { "$BIN/python" -c "import redis,sys; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()" "$TEST_REDIS_URL" 2>/dev/null; }

if pg_up && redis_up; then
    echo "== pass 2: PostgreSQL + Redis ($TEST_DATABASE_URL, $TEST_REDIS_URL)"
    DATABASE_URL="$TEST_DATABASE_URL" CELERY_BROKER_URL="$TEST_REDIS_URL" \
        DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-test-only-secret} \
        "$BIN/pytest" -q "$@"
else
    echo "!! pass 2 NOT RUN: PostgreSQL at $TEST_DATABASE_URL or Redis at $TEST_REDIS_URL does not answer."
    echo "!! Not tested here: the tests marked 'postgres', and every test on PostgreSQL + Redis."
    echo "!! Start both (see README) or set TEST_DATABASE_URL / TEST_REDIS_URL, then run make test again."
    if [ "${REQUIRE_SERVICES:-0}" = "1" ]; then
        echo "!! REQUIRE_SERVICES=1: failing."
        exit 1
    fi
fi
