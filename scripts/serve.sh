#!/usr/bin/env bash
# `make serve`: the production processes on one machine, in the foreground:
#   gunicorn (WEB_WORKERS sync workers on HOST:PORT), one Celery worker (WORKER_CONCURRENCY
#   processes) and exactly one Celery beat, against DATABASE_URL (PostgreSQL) and
#   CELERY_BROKER_URL (Redis). Migrates first. Ctrl-C stops all three; if one of them dies,
#   the others are stopped too and the exit status is non-zero. Several machines: docs/deploy.md.
set -euo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-$(( $(nproc) * 2 + 1 ))}
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-$(nproc)}

for variable in DATABASE_URL CELERY_BROKER_URL DJANGO_SECRET_KEY; do
    if [ -z "${!variable:-}" ] && [ -z "$(eval echo "\${${variable}_FILE:-}")" ]; then
        echo "make serve: set $variable (see README, Production, and docs/deploy.md)" >&2
        exit 2
    fi
done

"$BIN/python" manage.py migrate --no-input
mkdir -p var

pids=()
stop() {
    trap - EXIT INT TERM
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

"$BIN/gunicorn" config.wsgi --bind "$HOST:$PORT" --workers "$WEB_WORKERS" --access-logfile - &
pids+=($!)
"$BIN/celery" -A config worker -l INFO --concurrency "$WORKER_CONCURRENCY" &
pids+=($!)
"$BIN/celery" -A config beat -l INFO --schedule var/celerybeat-schedule &
pids+=($!)
echo "serving on http://$HOST:$PORT (gunicorn $WEB_WORKERS workers, celery worker x$WORKER_CONCURRENCY, one beat)"

set +e
wait -n "${pids[@]}"
status=$?
echo "make serve: a process exited ($status); stopping the others" >&2
exit $(( status == 0 ? 1 : status ))
