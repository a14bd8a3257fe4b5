"""Bench: one registration's history (`history_for_registration`, what a get with history
reads), against the raw SQL of the same query.

Runs on bench/search.py's database (its registrations must be there): the first --registrations
registrations get a hash-chained `registration.created` and `registration.validated` event,
COPYed once (table bench_history_meta remembers how many); the history table then holds
2 x --registrations events.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench_search \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/history.py [--registrations 1000000] [--lookups 500] [--runs 5]
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection

from bench import report, stack
from bench.search import captured, percentile, raw_connection
from history.events import EventType
from history.selectors import history_for_registration
from history.services import event_hash

COLUMNS = "registration_id, registration_date, seq, event_type, occurred_at, actor, channel, data, prev_hash, hash"


def ensure_events(count: int) -> list[int]:
    """Events for the first `count` registrations (by id); returns their ids. On PostgreSQL
    ids carry their month (docs/adr/0018), so they are not one range: they are read."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_history_meta (registrations bigint NOT NULL)")
        cursor.execute("SELECT registrations FROM bench_history_meta")
        done = cursor.fetchone()
        cursor.execute("SELECT id, registration_date FROM registrations_registration ORDER BY id LIMIT %s", [count])
        chosen = cursor.fetchall()
    if not chosen:
        sys.exit("no registrations: run bench/search.py on this database first")
    if done and done[0] == count:
        print(f"reusing the history of {count:,} registrations", flush=True)
        return [registration_id for registration_id, _ in chosen]
    print(f"writing the history of {count:,} registrations (once) ...", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE history_historyevent")
    at = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    with connection.cursor() as cursor:
        extra = stack.unfilled_columns(cursor, "history_historyevent", COLUMNS)  # columns added later
    columns = ", ".join([COLUMNS, *(name for name, _ in extra)])
    tail = tuple(value for _, value in extra)
    with (
        connection.cursor() as django_cursor,
        django_cursor.cursor.copy(f"COPY history_historyevent ({columns}) FROM STDIN") as copy,
    ):
        for registration_id, registration_date in chosen:
            prev = ""
            for seq, (kind, data) in enumerate(
                ((EventType.CREATED, {}), (EventType.VALIDATED, {"status": "validated", "remarks": []})), 1
            ):
                when = at + timedelta(seconds=seq)
                digest = event_hash(registration_id=registration_id, seq=seq, event_type=kind, occurred_at=when,
                                    actor="bench", channel="WS", data=data, prev_hash=prev)  # fmt: skip
                copy.write_row(
                    (
                        registration_id,
                        registration_date,
                        seq,
                        kind,
                        when,
                        "bench",
                        "WS",
                        json.dumps(data),
                        prev,
                        digest,
                        *tail,
                    )
                )
                prev = digest
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE history_historyevent")
        cursor.execute("DELETE FROM bench_history_meta")
        cursor.execute("INSERT INTO bench_history_meta VALUES (%s)", [count])
    print(f"  written in {time.perf_counter() - started:.0f} s", flush=True)
    return [registration_id for registration_id, _ in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=500, help="lookups per repetition")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ids = ensure_events(args.registrations)
    rng = random.Random(13)
    raw = raw_connection()
    p50s, p99s, f50s, f99s = [], [], [], []
    for _ in range(args.runs):
        service, floor = [], []
        for _ in range(args.lookups):
            registration_id = rng.choice(ids)
            sent: list[tuple[str, Any]] = []
            with captured(sent):
                started = time.perf_counter()
                events = history_for_registration(registration_id=registration_id)
                service.append(time.perf_counter() - started)
            report.require(len(events) == 2, (registration_id, events))
            started = time.perf_counter()
            for sql, params in sent:
                raw.execute(sql, params).fetchall()
            floor.append(time.perf_counter() - started)
        p50s.append(statistics.median(service))
        p99s.append(percentile(service, 0.99))
        f50s.append(statistics.median(floor))
        f99s.append(percentile(floor, 0.99))
    p50, p99 = statistics.median(p50s) * 1000, statistics.median(p99s) * 1000
    f50, f99 = statistics.median(f50s) * 1000, statistics.median(f99s) * 1000
    events = 2 * args.registrations
    report.write(
        "history",
        [
            report.result(
                f"history lookup p50 ({events:,} events)", p50, "ms", "raw SQL of the same query, p50", f50, p50 / f50
            ),
            report.result(
                f"history lookup p99 ({events:,} events)", p99, "ms", "raw SQL of the same query, p99", f99, p99 / f99
            ),
        ],
    )


if __name__ == "__main__":
    main()
