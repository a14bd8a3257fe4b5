#!/usr/bin/env bash
# Start the machine's PostgreSQL (5432) and Redis (6379) if they do not answer, exactly as
# .ci/run does (stack notes §13). A running service is never touched.
set -euo pipefail
# The partitioned tables (docs/adr/0019-partitioning-and-keys.md) need pg_partman, built for the
# cluster's major version (Debian package postgresql-<major>-partman), as in .ci/run.
pg_major="$(ls /etc/postgresql | sort -V | tail -1)"
if [ ! -e "/usr/share/postgresql/$pg_major/extension/pg_partman.control" ]; then
    echo "installing pg_partman"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-$pg_major-partman" \
        || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "postgresql-$pg_major-partman"; }
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
