"""Bench: `registration_search` over a large table, against a replay of the SQL it sent.

The data set (default 10 million registrations over a year) is generated once with COPY into
its own database (DATABASE_URL, e.g. presence_bench_search) and reused while its parameters
match (table bench_search_meta). Secondary indexes are dropped during the COPY and built
after it, then VACUUM ANALYZE. One very large employer holds 8 % of the rows.

Queries, drawn at random each repetition, as the callers who would make them:
- an employer over its own registrations, a 7-day window;
- inspection by NISS, a 31-day window;
- inspection by workplace, a 31-day window;
- the very large employer over itself, a 1-day and a 31-day window.
Each query runs through the selector (criteria check, visibility, paging, at most a COUNT) and
then, as the floor, the SQL the selector sent, replayed over a plain psycopg connection: a
replay of our own SQL, so the ratio is the selector's cost above its queries, not a judgement
of the queries themselves (their plans are checked by the absolute p99 target).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_bench_search \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/search.py [--rows 10000000] [--queries 40] [--runs 5]
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import psycopg
from django.core.management import call_command
from django.db import connection

from bench import report, stack
from registrations.domain.authorisation import Caller
from registrations.models import Client, ClientRole
from registrations.selectors.clients import caller_for_client
from registrations.selectors.registrations import SearchCriteria, registration_search

TABLE = "registrations_registration"
LAST_DAY = date(2026, 11, 26)
DAYS = 365
LARGE_SHARE = 0.08
COPY_COLUMNS = (
    "sector, channel, sender_id, sender_enterprise_number, sender_role, created_at, registration_date, niss, "
    "limosa_id, enterprise_number, foreign_vat_number, workplace_id, client_reference, submitted, status, "
    "remark_mask, cancellation_reason, event_type, activity, dedup_key, validated_at"
)
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def niss_of(person: int) -> str:
    """A checksum-valid NISS for person number `person` (deterministic)."""
    born = date(1950, 1, 1) + timedelta(days=person % 18_000)
    base = f"{born:%y%m%d}{person // 18_000 % 997 + 1:03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def enterprise_of(number: int) -> str:
    body = f"0{2_000_000 + number:07d}"
    return f"{body}{97 - int(body) % 97:02d}"


def workplace_of(number: int) -> str:
    chars = []
    for _ in range(12):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "2" + "".join(reversed(chars))


def sizes(rows: int) -> dict[str, int]:
    return {
        "rows": rows,
        "persons": max(1000, rows // 10),
        "enterprises": max(100, rows // 100),
        "workplaces": max(200, rows // 50),
    }


def generate(rows: int, sender_ids: tuple[object, object], large: str, rng: random.Random) -> None:
    """COPY `rows` registrations (indexes dropped meanwhile, rebuilt after)."""
    shape = sizes(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
            [TABLE, "%_pkey"],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            [TABLE],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(f"TRUNCATE {TABLE} CASCADE")
        for name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {TABLE} DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    # Enterprise sizes: a long tail (Pareto), plus the one very large employer.
    weights = [rng.paretovariate(1.2) for _ in range(shape["enterprises"])]
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    enterprises = [enterprise_of(n) for n in range(shape["enterprises"])]
    started, chunk = time.perf_counter(), 200_000
    generic_sender, large_sender = sender_ids
    with connection.cursor() as cursor:
        extra = stack.unfilled_columns(cursor, TABLE, COPY_COLUMNS)  # columns added to the model later
    columns = ", ".join([COPY_COLUMNS, *(name for name, _ in extra)])
    tail = "".join(f"\t{value}" for _, value in extra) + "\n"
    with (
        connection.cursor() as django_cursor,
        django_cursor.cursor.copy(f"COPY {TABLE} ({columns}) FROM STDIN") as copy,
    ):
        for offset in range(0, rows, chunk):
            count = min(chunk, rows - offset)
            employers = rng.choices(enterprises, cum_weights=cumulative, k=count)
            lines = []
            for index, employer in enumerate(employers, offset):
                is_large = rng.random() < LARGE_SHARE
                employer = large if is_large else employer
                day = LAST_DAY - timedelta(days=rng.randrange(DAYS))
                niss = niss_of(rng.randrange(shape["persons"]))
                workplace = workplace_of(rng.randrange(shape["workplaces"]))
                failed = rng.random() < 0.1
                lines.append(
                    f"1\tWS\t{large_sender if is_large else generic_sender}\t{employer}\tenterprise\t"
                    f"{day}T08:00:00Z\t{day}\t{niss}\t\t{employer}\t\t{workplace}\t\t{{}}\t"
                    f"{'failed' if failed else 'validated'}\t{16384 if failed else 0}\t\t\t\t"
                    f"b{index}\t{day}T08:00:01Z{tail}"
                )
            copy.write("".join(lines))
            done = offset + count
            print(f"  {done:>11,} rows  {done / (time.perf_counter() - started):,.0f} rows/s", flush=True)
    print("  building indexes, VACUUM ANALYZE ...", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE {TABLE} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def recreate_database() -> None:
    """Drop and re-create this database, then migrate it (trust authentication assumed)."""
    settings = connection.settings_dict
    name = settings["NAME"]
    connection.close()
    connection.close_pool()  # type: ignore[attr-defined]  # (not in django-stubs) a pooled connection outlives close()
    admin = f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
    stack.drop_database(name, f"{admin}/postgres")
    stack.ensure_database(name, f"{admin}/postgres")
    call_command("migrate", verbosity=0)


def ensure_data(rows: int) -> dict[str, Any]:
    """The data set for `rows`, generated only when the database does not hold it yet."""
    call_command("migrate", verbosity=0)
    large = enterprise_of(7_000_000)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_search_meta (meta jsonb NOT NULL)")
        cursor.execute("SELECT meta FROM bench_search_meta")
        row = cursor.fetchone()
    meta = json.loads(row[0]) if row and isinstance(row[0], str) else (row[0] if row else None)
    wanted = {**sizes(rows), "large": large, "version": 2}
    if meta and {k: meta.get(k) for k in wanted} == wanted:
        print(f"reusing {rows:,} registrations", flush=True)
        return dict(meta)
    print(f"generating {rows:,} registrations (once) ...", flush=True)
    recreate_database()  # a clean schema, whatever an interrupted generation left behind
    generic = Client.objects.create(name="bench-integrator", enterprise_number=enterprise_of(1), role="enterprise")
    large_client = Client.objects.create(name="bench-large", enterprise_number=large, role="enterprise")
    generate(rows, (generic.pk, large_client.pk), large, random.Random(10))
    meta = {**wanted, "large_client": str(large_client.pk)}
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_search_meta (meta jsonb NOT NULL)")
        cursor.execute("DELETE FROM bench_search_meta")
        cursor.execute("INSERT INTO bench_search_meta VALUES (%s)", [json.dumps(meta)])
    return meta


class Queries:
    """Random queries of the five kinds, each with the caller who would make it."""

    def __init__(self, meta: dict[str, Any], rng: random.Random) -> None:
        self.meta, self.rng = meta, rng
        inspection = Client.objects.filter(role=ClientRole.INSPECTION, name="bench-inspection").first()
        inspection = inspection or Client.objects.create(
            name="bench-inspection", enterprise_number=enterprise_of(2), role=ClientRole.INSPECTION
        )
        self.inspection = caller_for_client(inspection)
        self.large = caller_for_client(Client.objects.get(pk=meta["large_client"]))
        self.employers: dict[str, Caller] = {}

    def window(self, days: int) -> list[tuple[date, date]]:
        start = LAST_DAY - timedelta(days=self.rng.randrange(DAYS - days))
        return [(start, start + timedelta(days=days - 1))]

    def employer(self, number: str) -> Caller:
        if number not in self.employers:
            client = Client.objects.create(name="bench-employer", enterprise_number=number, role="enterprise")
            self.employers[number] = caller_for_client(client)
        return self.employers[number]

    def draw(self) -> tuple[str, Caller, SearchCriteria]:
        kind = self.rng.choice(["employer 7 d", "NISS 31 d", "workplace 31 d", "large employer 1 d", "large 31 d"])
        if kind == "employer 7 d":
            number = enterprise_of(self.rng.randrange(3, self.meta["enterprises"]))
            return kind, self.employer(number), SearchCriteria(periods=self.window(7), enterprise_number=number)
        if kind == "NISS 31 d":
            niss = niss_of(self.rng.randrange(self.meta["persons"]))
            return kind, self.inspection, SearchCriteria(periods=self.window(31), niss=niss)
        if kind == "workplace 31 d":
            workplace = workplace_of(self.rng.randrange(self.meta["workplaces"]))
            return kind, self.inspection, SearchCriteria(periods=self.window(31), workplace_id=workplace)
        days = 1 if kind == "large employer 1 d" else 31
        return kind, self.large, SearchCriteria(periods=self.window(days), enterprise_number=self.meta["large"])


@contextmanager
def captured(into: list[tuple[str, Any]]) -> Iterator[None]:
    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        into.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def raw_connection() -> psycopg.Connection[Any]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, user=settings["USER"],
        password=settings["PASSWORD"] or None, dbname=settings["NAME"], autocommit=True,
        cursor_factory=psycopg.ClientCursor,  # binds parameters client-side, as Django does
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=40, help="queries per repetition")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/search.py needs PostgreSQL: set DATABASE_URL")
    meta = ensure_data(args.rows)
    queries = Queries(meta, random.Random(12))
    raw = raw_connection()
    p50s, p99s, floor_p50s, floor_p99s = [], [], [], []
    for run in range(args.runs):
        service, floor = [], []
        for _ in range(args.queries):
            _kind, caller, criteria = queries.draw()
            registration_search(caller=caller, criteria=criteria)  # warm the pages both sides read
            sent: list[tuple[str, Any]] = []
            with captured(sent):
                started = time.perf_counter()
                registration_search(caller=caller, criteria=criteria)
                service.append(time.perf_counter() - started)
            started = time.perf_counter()
            for sql, params in sent:
                raw.execute(sql, params).fetchall()
            floor.append(time.perf_counter() - started)
        p50s.append(statistics.median(service))
        p99s.append(percentile(service, 0.99))
        floor_p50s.append(statistics.median(floor))
        floor_p99s.append(percentile(floor, 0.99))
        print(f"  run {run + 1}: p50 {p50s[-1] * 1000:.1f} ms, p99 {p99s[-1] * 1000:.1f} ms", flush=True)
    p50, p99 = statistics.median(p50s) * 1000, statistics.median(p99s) * 1000
    f50, f99 = statistics.median(floor_p50s) * 1000, statistics.median(floor_p99s) * 1000
    label = f"{args.rows / 1e6:g} M" if args.rows >= 1_000_000 else f"{args.rows:,}"
    report.write(
        "search",
        [
            report.result(
                f"search p50 ({label} registrations)",
                p50,
                "ms",
                "replay of the selector's SQL over psycopg, p50",
                f50,
                p50 / f50,
            ),
            report.result(
                f"search p99 ({label} registrations)",
                p99,
                "ms",
                "replay of the selector's SQL over psycopg, p99",
                f99,
                p99 / f99,
            ),
        ],
    )


if __name__ == "__main__":
    main()
