#!/usr/bin/env bash
# `make serve`: the production processes on one machine, in the foreground:
#   gunicorn (WEB_WORKERS sync workers on HOST:PORT), one Celery worker (WORKER_CONCURRENCY
#   processes) and exactly one Celery beat, against DATABASE_URL (PostgreSQL) and
#   CELERY_BROKER_URL (Redis), with DJANGO_SECRET_KEY, NISS_HASH_KEY, DJANGO_ALLOWED_HOSTS and
#   REST_CACHE_URL (Redis: the rate-limit counters every web worker shares). Migrates first.
#   Each process draws its PostgreSQL connections from its own pool (DATABASE_POOL_MAX_SIZE,
#   docs/deploy.md "Connections" sizes max_connections for WEB_WORKERS and WORKER_CONCURRENCY).
#   Their metrics are summed across processes in PROMETHEUS_MULTIPROC_DIR (default var/prometheus).
#   Each process is restarted when it exits, as a supervisor (systemd Restart=always) would:
#   a Celery worker can exit on a broker outage (docs/deploy.md). Ctrl-C stops everything.
#   Several machines: docs/deploy.md.
set -euo pipefail
set -m  # every background job in its own process group, so it can be stopped with its children
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
WEB_WORKERS=${WEB_WORKERS:-$(( $(nproc) * 2 + 1 ))}
WORKER_CONCURRENCY=${WORKER_CONCURRENCY:-$(nproc)}

for variable in DATABASE_URL CELERY_BROKER_URL DJANGO_SECRET_KEY NISS_HASH_KEY DJANGO_ALLOWED_HOSTS REST_CACHE_URL; do
    file_variable="${variable}_FILE"
    if [ -z "${!variable:-}" ] && [ -z "${!file_variable:-}" ]; then
        echo "make serve: set $variable (see README, Production, and docs/deploy.md)" >&2
        exit 2
    fi
done

is_true() {  # as config/env.py reads a flag
    case "$(echo "${1:-}" | tr '[:upper:]' '[:lower:]' | tr -d '[:space:]')" in 1|true|yes|on) return 0 ;; *) return 1 ;; esac
}
# Sandbox mode lets anyone register a client and move clients' clocks (docs/sandbox.md): the
# production processes serve it only when asked to explicitly (the settings refuse it too).
if is_true "${SANDBOX_MODE:-}" && ! is_true "${ALLOW_SANDBOX_IN_PRODUCTION:-}"; then
    echo "make serve: SANDBOX_MODE is on: set ALLOW_SANDBOX_IN_PRODUCTION=1 to serve a sandbox (docs/sandbox.md)" >&2
    exit 2
fi

"$BIN/python" manage.py migrate --no-input
mkdir -p var
# The metrics of every process of this machine (gunicorn workers, Celery), summed on each
# scrape of /metrics; emptied at start, as prometheus-client's multiprocess mode requires
# (docs/operations.md).
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/prometheus}
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

supervise() {  # run "$@" again whenever it exits
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 0' TERM INT
    while :; do
        "$@" &
        child=$!
        wait "$child" && status=0 || status=$?
        echo "make serve: $1 exited ($status); restarting in 2 s" >&2
        sleep 2
    done
}

groups=()
stop() {
    trap - EXIT INT TERM
    for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop EXIT INT TERM

supervise "$BIN/gunicorn" config.wsgi --config python:config.gunicorn --bind "$HOST:$PORT" --workers "$WEB_WORKERS" &
groups+=($!)
supervise "$BIN/celery" -A config worker -l INFO --concurrency "$WORKER_CONCURRENCY" &
groups+=($!)
supervise "$BIN/celery" -A config beat -l INFO --schedule var/celerybeat-schedule &
groups+=($!)
echo "serving on http://$HOST:$PORT (gunicorn $WEB_WORKERS workers, celery worker x$WORKER_CONCURRENCY, one beat)"
wait
