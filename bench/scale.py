"""Bench: the service at national scale. Search, get by id, one registration's history and
ingest on a large partitioned data set (default 50 million registrations over 25 months),
each next to the same measure on the 10 million set (5 months, the same rows per month).

Data: bench/scale_data.py (generated once per database with COPY, reused while its stamp
matches). The floor set lives in its own database (--floor-database-url); this script measures
it first, in a child process of its own, then the large set, and reports each measure with the
floor's as its floor. Target (issue 15): p99 at the large size within 1.3x of p99 at 10 M.

- search: bench/search.py's query mix (its Queries), windows drawn over the set's months;
- get by id: `registration_get` of a random registration, by an inspection caller;
- history: `history_for_registration` of a random registration;
- ingest: --ingest registrations of the newest month COPYed into the partitioned table (its
  routing and id trigger) against the same rows COPYed into an unpartitioned table holding
  the same month's rows and the same indexes (`bench_scale_flat`); each COPY is rolled back.
  COPY rather than the service's write path: partitioning changes only where rows are stored,
  and the service's own per-row cost (measured by bench/soap_register.py) would hide it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench_scale \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/scale.py --floor-database-url postgres://postgres@127.0.0.1:5432/presence_bench_scale10 \
        [--months 25] [--floor-months 5] [--month-rows 2000000] [--queries 40] [--lookups 200] [--runs 5]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction

from bench import report, scale_data
from bench.scale_data import Plan
from bench.search import Queries, percentile
from history.selectors import history_for_registration
from registrations.selectors.registrations import registration_get, registration_search

MEASURES = ("search p50", "search p99", "get p50", "get p99", "history p50", "history p99")


class ScaleQueries(Queries):
    """bench/search.py's queries, with windows drawn over this data set's months."""

    def __init__(self, meta: dict[str, Any], rng: random.Random, plan: Plan) -> None:
        super().__init__(meta, rng)
        self.first = plan.month_starts()[0]
        self.days = (scale_data.month_end(plan.month_starts()[-1]) - self.first).days

    def window(self, days: int) -> list[tuple[date, date]]:
        start = self.first + timedelta(days=self.rng.randrange(self.days - days + 1))
        return [(start, start + timedelta(days=days - 1))]


def timings(call: Callable[[], Any], count: int, runs: int) -> tuple[float, float]:
    """(p50, p99) in ms: each the median over `runs` repetitions of `count` calls."""
    p50s, p99s = [], []
    for _ in range(runs):
        durations = []
        for _ in range(count):
            started = time.perf_counter()
            call()
            durations.append(time.perf_counter() - started)
        p50s.append(statistics.median(durations))
        p99s.append(percentile(durations, 0.99))
    return statistics.median(p50s) * 1000, statistics.median(p99s) * 1000


def search_timings(queries: ScaleQueries, count: int, runs: int) -> tuple[float, float]:
    def one() -> None:
        _kind, caller, criteria = queries.draw()
        registration_search(caller=caller, criteria=criteria)

    for _ in range(count):  # warm the catalogue and the planner's caches once
        one()
    return timings(one, count, runs)


def random_ids(plan: Plan, rng: random.Random) -> Callable[[], int]:
    return lambda: scale_data.registration_id(plan, rng.randrange(plan.rows))


def lookup_timings(plan: Plan, queries: ScaleQueries, count: int, runs: int) -> dict[str, float]:
    next_id = random_ids(plan, random.Random(14))

    def get() -> None:
        report.require(registration_get(caller=queries.inspection, registration_id=next_id()) is not None, "get")

    def history() -> None:
        report.require(len(history_for_registration(registration_id=next_id())) >= 1, "history")

    get_p50, get_p99 = timings(get, count, runs)
    history_p50, history_p99 = timings(history, count, runs)
    return {"get p50": get_p50, "get p99": get_p99, "history p50": history_p50, "history p99": history_p99}


def copy_seconds(table: str, columns: str, rows: str) -> float:
    """The time of one COPY of `rows` into `table`, rolled back afterwards."""
    with transaction.atomic():
        started = time.perf_counter()
        scale_data.copy_text(f"COPY {table} ({columns}) FROM STDIN", rows)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds


def ingest_rates(plan: Plan, meta: dict[str, Any], count: int, runs: int) -> tuple[float, float]:
    """(registrations/s into the partitioned table, into the unpartitioned one), medians of
    `runs` alternated pairs."""
    generator = scale_data.Generator(plan, (meta["generic_client"], meta["large_client"]), meta["large"])
    newest = plan.month_starts()[-1]
    days = (scale_data.month_end(newest) - newest).days
    columns, tail = scale_data.registration_columns()
    rows, _ = generator.chunk(plan.rows, count, newest, days, tail)
    partitioned, flat = [], []
    for _ in range(runs):
        partitioned.append(copy_seconds(scale_data.REGISTRATIONS, columns, rows))
        flat.append(copy_seconds(scale_data.FLAT, columns, rows))
    return count / statistics.median(partitioned), count / statistics.median(flat)


def measure(plan: Plan, args: argparse.Namespace) -> dict[str, Any]:
    """Every measure of this database's data set."""
    meta = scale_data.ensure(plan)
    queries = ScaleQueries(meta, random.Random(12), plan)
    measures: dict[str, Any] = {"label": plan.label(), "months": plan.months, "database_bytes": meta["database_bytes"]}
    measures["search p50"], measures["search p99"] = search_timings(queries, args.queries, args.runs)
    measures.update(lookup_timings(plan, queries, args.lookups, args.runs))
    measures["ingest"], measures["ingest flat"] = ingest_rates(plan, meta, args.ingest, args.runs)
    measures["sizes"] = scale_data.table_sizes()
    return measures


def floor_measures(args: argparse.Namespace) -> dict[str, Any]:
    """The same measures on the floor database, in a child process connected to it."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "floor.json"
        command = [sys.executable, __file__, "--months", str(args.floor_months), "--month-rows", str(args.month_rows),
                   "--queries", str(args.queries), "--lookups", str(args.lookups), "--runs", str(args.runs),
                   "--ingest", str(args.ingest), "--emit", str(out)]  # fmt: skip
        environment = {**os.environ, "DATABASE_URL": args.floor_database_url}
        subprocess.run(command, env=environment, check=True)  # noqa: S603  # our own script
        return dict(json.loads(out.read_text()))


def rows_of(large: dict[str, Any], floor: dict[str, Any]) -> list[dict[str, Any]]:
    at = f"{large['label']} registrations, {large['months']} months"
    results = [
        report.result(
            f"{name} ({at})",
            large[name],
            "ms",
            f"the same at {floor['label']} ({floor['months']} months)",
            floor[name],
            large[name] / floor[name],
        )
        for name in MEASURES
    ]
    results.append(
        report.result(
            f"ingest, COPY into the partitioned tables ({at})",
            large["ingest"],
            "registrations/s",
            "COPY into an unpartitioned table of the same month and indexes",
            large["ingest flat"],
            large["ingest flat"] / large["ingest"],
        )
    )
    results.append(
        report.result(
            f"ingest, COPY into the partitioned tables ({at})",
            large["ingest"],
            "registrations/s",
            f"the same at {floor['label']}",
            floor["ingest"],
            floor["ingest"] / large["ingest"],
        )
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=25)
    parser.add_argument("--floor-months", type=int, default=5)
    parser.add_argument("--month-rows", type=int, default=2_000_000)
    parser.add_argument("--floor-database-url", help="the database of the 10 M set (required unless --emit)")
    parser.add_argument("--queries", type=int, default=40, help="searches per repetition")
    parser.add_argument("--lookups", type=int, default=200, help="gets and history reads per repetition")
    parser.add_argument("--ingest", type=int, default=20_000, help="registrations per ingest COPY")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--generate-only", action="store_true", help="make sure the data exists, measure nothing")
    parser.add_argument("--emit", help=argparse.SUPPRESS)  # the floor's child: write its measures here
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/scale.py needs PostgreSQL: set DATABASE_URL")
    plan = Plan(months=args.months, month_rows=args.month_rows)
    if args.generate_only:
        scale_data.ensure(plan)
        return
    if args.emit:
        Path(args.emit).write_text(json.dumps(measure(plan, args)))
        return
    if not args.floor_database_url:
        sys.exit("bench/scale.py: set --floor-database-url (the 10 M set's database)")
    floor = floor_measures(args)
    large = measure(plan, args)
    print(json.dumps({"floor": floor, "large": large}, indent=1), flush=True)
    report.write("scale", rows_of(large, floor))


if __name__ == "__main__":
    main()
