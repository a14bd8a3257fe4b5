"""Bench: the retention purge of one month of the 10 million set (2 million registrations
with their events), by dropping its partitions against the row-by-row delete of the same month,
in the same run.

Each path runs on a fresh copy of the 10 M set's database (bench/scale.py's floor database,
--template-database; CREATE DATABASE ... TEMPLATE, so nothing is generated twice), the clock
moved seven years past the oldest month so that exactly that month has expired:

- dropping: `registrations_purge_expired()`, the service's purge: it detaches and drops the
  month's partitions of both tables (docs/adr/0019);
- row by row: the same service's batch path (`_purge_batch`, 1000 registrations a
  transaction: the history's DELETE, then the ORM's delete with its cascade), which was the
  whole purge before the tables were partitioned and still purges what no whole month holds.

Both must leave the same thing: no row of that month in either table, every other month
whole. With --row-by-row-batches N the row-by-row path stops after N batches and its time is
scaled to the month (said so in the report), for runs that cannot wait for the whole month.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench_purge \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/purge.py --template-database presence_bench_scale10 [--row-by-row-batches 0]
"""

import argparse
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import psycopg
import time_machine
from django.db import connection

from bench import report, scale_data, stack
from history.models import HistoryEvent
from registrations.domain.retention import RETENTION_YEARS, retention_cutoff
from registrations.models import Registration
from registrations.services import retention

BRUSSELS = ZoneInfo("Europe/Brussels")


def copy_of(template: str) -> None:
    """This database, re-created as a copy of `template` (which nobody may be connected to)."""
    settings = connection.settings_dict
    name = settings["NAME"]
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # (not in django-stubs) a pooled connection outlives close()
    admin = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    stack.drop_database(name, f"{admin}/postgres")
    with psycopg.connect(f"{admin}/postgres", autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def counts(first: date, after: date) -> tuple[int, int, int, int]:
    """(registrations, events) of the month [first, after), then of every other month."""
    in_month = {"registration_date__gte": first, "registration_date__lt": after}
    return (
        Registration.objects.filter(**in_month).count(),
        HistoryEvent.objects.filter(**in_month).count(),
        Registration.objects.exclude(**in_month).count(),
        HistoryEvent.objects.exclude(**in_month).count(),
    )


def expiry_day(after: date) -> datetime:
    """A day when everything before `after` has expired and nothing from `after` on."""
    day = datetime(after.year + RETENTION_YEARS, after.month, after.day, 12, tzinfo=BRUSSELS)
    report.require(retention_cutoff(day.date()) == after, (day, after))
    return day


def by_dropping(first: date, after: date) -> tuple[float, int, int]:
    """Seconds of the service's purge; (registrations, events) it reported."""
    with time_machine.travel(expiry_day(after), tick=True):
        started = time.perf_counter()
        done = retention.registrations_purge_expired()
        seconds = time.perf_counter() - started
    return seconds, done.registrations, done.events


def row_by_row(after: date, batches: int) -> tuple[float, int, int]:
    """Seconds of the batch path over the month (or its first `batches` batches, 0 = all);
    (registrations, events) it deleted."""
    registrations = events = done = 0
    started = time.perf_counter()
    while (batches == 0 or done < batches) and (batch := retention._purge_batch(after)):
        registrations, events, done = registrations + batch[0], events + batch[1], done + 1
    return time.perf_counter() - started, registrations, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template-database", required=True, help="the 10 M set's database (bench/scale.py)")
    parser.add_argument("--row-by-row-batches", type=int, default=0, help="0: the whole month")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/purge.py needs PostgreSQL: set DATABASE_URL")
    copy_of(args.template_database)
    meta = scale_data.stored_meta()
    if meta is None:
        sys.exit(f"{args.template_database} holds no bench/scale.py data set: run bench/scale.py first")
    plan = scale_data.Plan(months=meta["months"], month_rows=meta["month_rows"])
    first = plan.month_starts()[0]
    after = scale_data.month_end(first)
    before = counts(first, after)

    seconds, registrations, events = by_dropping(first, after)
    report.require((registrations, events) == before[:2], ("dropping", registrations, events, before))
    report.require(counts(first, after) == (0, 0, *before[2:]), "dropping left the month or took another")
    print(f"  dropping: {registrations:,} registrations, {events:,} events in {seconds:.2f} s", flush=True)

    copy_of(args.template_database)
    slow, slow_registrations, slow_events = row_by_row(after, args.row_by_row_batches)
    whole = slow_registrations == before[0]
    if whole:
        report.require(slow_events == before[1], ("row by row", slow_events, before))
        report.require(counts(first, after) == (0, 0, *before[2:]), "row by row left the month or took another")
    scaled = slow * before[0] / max(slow_registrations, 1)
    print(f"  row by row: {slow_registrations:,} registrations, {slow_events:,} events in {slow:.1f} s", flush=True)
    label = f"{before[0]:,} registrations, {before[1]:,} events"
    floor = "the row-by-row delete of the same month (batches of 1000)"
    if not whole:
        floor += f", timed over {slow_registrations:,} and scaled"
    report.write("purge", [report.result(f"purge one month by dropping its partitions ({label})", seconds, "s",
                                         floor, scaled, seconds / scaled)])  # fmt: skip


if __name__ == "__main__":
    main()
