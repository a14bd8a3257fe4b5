"""Generated data for the scale benchmarks (bench/scale.py, bench/purge.py): registrations
partitioned by month with their history, written once with COPY and reused while its stamp
matches (its parameters and the schema's applied migrations).

The plan: the same rows per month at every size (default 2 million), so a month's partition
is alike in the 10 million set (5 months) and in the 50 million set (25 months): what grows is
the history, not the month. The population (persons, enterprises, workplaces) is the one
bench/search.py uses for 10 million rows at every size: a country does not get more people
because it keeps more years. Registrations use bench/search.py's identifiers and shapes (one
very large employer with 8 % of the rows, Pareto-sized employers, 10 % failed).

History: every registration has its `registration.created` event; VALIDATED_SHARE of them a
`registration.validated` event after it, and a further CONSULTED_SHARE of those a third
event; each chain is hashed as the service hashes it (history.services.event_hash).

Ids are the ones the database would give (config/partitioning.py: month << MONTH_SHIFT |
sequence), computed here so that the events can name their registration; the id sequence is
moved past them afterwards. Secondary indexes are dropped during the COPY and rebuilt after
it, then VACUUM ANALYZE.
"""

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.management import call_command
from django.db import connection

from bench import stack
from bench.search import COPY_COLUMNS, enterprise_of, niss_of, recreate_database, sizes, workplace_of
from config.partitioning import MONTH_SHIFT
from history.events import EventType
from history.services import event_hash
from registrations.models import Client

REGISTRATIONS = "registrations_registration"
FLAT = "bench_scale_flat"  # unpartitioned, the newest month's rows: the ingest floor (bench/scale.py)
EVENTS = "history_historyevent"
EVENT_COLUMNS = (
    "id, registration_id, registration_date, seq, event_type, occurred_at, actor, channel, data, prev_hash, hash"
)
LAST_MONTH = date(2026, 10, 1)  # the newest month of every data set: a whole month, in the past
POPULATION = sizes(10_000_000)
LARGE_SHARE = 0.08
VALIDATED_SHARE = 0.10
CONSULTED_SHARE = 0.05
VERSION = 2  # the generator: bump when the data it writes changes
EMPLOYER_DRAWS = 1_000_000

# One month of registrations: the columns and values of Generator.chunk, drawn by PostgreSQL.
REGISTRATIONS_SQL = """
INSERT INTO registrations_registration (id, sector, channel, sender_id, sender_enterprise_number, sender_role,
    created_at, registration_date, niss, limosa_id, enterprise_number, foreign_vat_number, workplace_id,
    client_reference, submitted, status, remark_mask, cancellation_reason, event_type, activity, dedup_key,
    validated_at{extra})
SELECT %(month)s | (%(base)s + g.i), 1, 'WS',
    (CASE WHEN g.large THEN %(large_sender)s ELSE %(generic)s END)::uuid,
    CASE WHEN g.large THEN %(large)s ELSE e.value END, 'enterprise',
    (g.day + time '08:00') AT TIME ZONE 'UTC', g.day, p.value, '',
    CASE WHEN g.large THEN %(large)s ELSE e.value END, '', w.value, '', '{{}}',
    CASE WHEN g.failed THEN 'failed' ELSE 'validated' END, CASE WHEN g.failed THEN 16384 ELSE 0 END,
    '', '', '', 'b' || (%(base)s + g.i - 1), (g.day + time '08:00:01') AT TIME ZONE 'UTC'{neutral}
FROM (
    SELECT i, random() < %(large_share)s AS large, random() < 0.1 AS failed,
        %(first)s::date + floor(random() * %(days)s)::int AS day,
        floor(random() * %(persons)s)::int AS person, floor(random() * %(workplaces)s)::int AS workplace,
        floor(random() * %(employers)s)::int AS employer
    FROM generate_series(1, %(rows)s) AS i
) g
JOIN bench_gen_person p ON p.n = g.person
JOIN bench_gen_workplace w ON w.n = g.workplace
JOIN bench_gen_employer e ON e.n = g.employer
"""

# The month's events: created for each registration, validated for a share, consulted for a
# smaller share; hashed as history.services.event_hash hashes (canonical JSON, SHA-256).
EVENTS_SQL = """
WITH r AS (
    SELECT id, registration_date AS day, random() AS u FROM registrations_registration
    WHERE registration_date >= %(first)s AND registration_date < %(after)s
), chained AS (
    SELECT r.*, encode(sha256(convert_to('{"actor":"bench","at":"' || to_char(day, 'YYYY-MM-DD')
        || 'T08:00:01+00:00","channel":"WS","data":{},"prev":"","registration":' || id
        || ',"seq":1,"type":"registration.created"}', 'UTF8')), 'hex') AS h1 FROM r
), second AS (
    SELECT chained.*, encode(sha256(convert_to('{"actor":"bench","at":"' || to_char(day, 'YYYY-MM-DD')
        || 'T08:00:02+00:00","channel":"WS","data":{"remarks":[],"status":"validated"},"prev":"' || h1
        || '","registration":' || id || ',"seq":2,"type":"registration.validated"}', 'UTF8')), 'hex') AS h2
    FROM chained WHERE u < %(validated)s
)
INSERT INTO history_historyevent (id, registration_id, registration_date, seq, event_type, occurred_at, actor,
    channel, data, prev_hash, hash)
SELECT id << 2 | 1, id, day, 1, 'registration.created', (day + time '08:00:01') AT TIME ZONE 'UTC', 'bench', 'WS',
    '{}'::jsonb, '', h1 FROM chained
UNION ALL
SELECT id << 2 | 2, id, day, 2, 'registration.validated', (day + time '08:00:02') AT TIME ZONE 'UTC', 'bench', 'WS',
    '{"remarks": [], "status": "validated"}'::jsonb, h1, h2 FROM second
UNION ALL
SELECT id << 2 | 3, id, day, 3, 'registration.consulted', (day + time '08:00:03') AT TIME ZONE 'UTC', 'bench', 'WS',
    '{}'::jsonb, h2, encode(sha256(convert_to('{"actor":"bench","at":"' || to_char(day, 'YYYY-MM-DD')
        || 'T08:00:03+00:00","channel":"WS","data":{},"prev":"' || h2 || '","registration":' || id
        || ',"seq":3,"type":"registration.consulted"}', 'UTF8')), 'hex')
FROM second WHERE u < %(consulted)s
"""


@dataclass(frozen=True)
class Plan:
    months: int
    month_rows: int

    @property
    def rows(self) -> int:
        return self.months * self.month_rows

    def month_starts(self) -> list[date]:
        """The first day of each month, oldest first, ending with LAST_MONTH."""
        firsts = []
        year, month = LAST_MONTH.year, LAST_MONTH.month
        for _ in range(self.months):
            firsts.append(date(year, month, 1))
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return firsts[::-1]

    def label(self) -> str:
        return f"{self.rows / 1e6:g} M" if self.rows >= 1_000_000 else f"{self.rows:,}"


def month_number(day: date) -> int:
    """The month as the id trigger counts it (registrations/migrations/0012: 2000-01 = 1)."""
    return (day.year - 2000) * 12 + day.month


def registration_id(plan: Plan, index: int) -> int:
    """The id of the `index`-th registration (0-based) of the plan."""
    first = plan.month_starts()[index // plan.month_rows]
    return month_number(first) << MONTH_SHIFT | (index + 1)


def month_end(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def migration_state() -> str:
    """A digest of the applied migrations: data generated under another schema is regenerated."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return hashlib.sha256(json.dumps(cursor.fetchall()).encode()).hexdigest()[:16]


def stamp(plan: Plan) -> dict[str, Any]:
    return {**asdict(plan), **POPULATION, "version": VERSION, "schema": migration_state()}


def stored_meta() -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_scale_meta (meta jsonb NOT NULL)")
        cursor.execute("SELECT meta FROM bench_scale_meta")
        row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else dict(row[0])


def ensure(plan: Plan) -> dict[str, Any]:
    """The data set of `plan` in this database, generated only when its stamp differs."""
    call_command("migrate", verbosity=0)
    wanted = stamp(plan)
    meta = stored_meta()
    if meta and {key: meta.get(key) for key in wanted} == wanted:
        print(f"reusing {plan.rows:,} registrations over {plan.months} months", flush=True)
        return meta
    print(f"generating {plan.rows:,} registrations over {plan.months} months (once) ...", flush=True)
    recreate_database()
    large = enterprise_of(7_000_000)
    generic = Client.objects.create(name="bench-integrator", enterprise_number=enterprise_of(1), role="enterprise")
    large_client = Client.objects.create(name="bench-large", enterprise_number=large, role="enterprise")
    started = time.perf_counter()
    Generator(plan, (str(generic.pk), str(large_client.pk)), large).run()
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size = int(cursor.fetchone()[0])
    meta = {
        **stamp(plan),
        "large": large,
        "generic_client": str(generic.pk),
        "large_client": str(large_client.pk),
        "generated_seconds": round(seconds),
        "database_bytes": size,
    }
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_scale_meta (meta jsonb NOT NULL)")
        cursor.execute("DELETE FROM bench_scale_meta")
        cursor.execute("INSERT INTO bench_scale_meta VALUES (%s)", [json.dumps(meta)])
    print(f"  generated in {seconds:.0f} s, database {size / 1e9:.1f} GB", flush=True)
    return meta


class Generator:
    """Writes the plan's registrations and events, month by month."""

    def __init__(self, plan: Plan, senders: tuple[str, str], large: str) -> None:
        self.plan, self.senders, self.large = plan, senders, large
        self.rng = random.Random(15)
        weights = [self.rng.paretovariate(1.2) for _ in range(POPULATION["enterprises"])]
        self.cumulative = _cumulative(weights)
        self.enterprises = [enterprise_of(n) for n in range(POPULATION["enterprises"])]
        self.persons = [niss_of(n) for n in range(POPULATION["persons"])]
        self.workplaces = [workplace_of(n) for n in range(POPULATION["workplaces"])]

    def run(self) -> None:
        create_months(self.plan.month_starts())
        indexes = drop_secondary_indexes()
        self.lookup_tables()
        started = time.perf_counter()
        for month_index, first in enumerate(self.plan.month_starts()):
            self.month(month_index * self.plan.month_rows, first)
            done = (month_index + 1) * self.plan.month_rows
            print(f"  {first:%Y-%m}: {done:>11,} registrations, {done / (time.perf_counter() - started):,.0f} reg/s",
                  flush=True)  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_gen_person, bench_gen_workplace, bench_gen_employer")
        rebuild(indexes)
        flat_copy(self.plan.month_starts()[-1])

    def lookup_tables(self) -> None:
        """The population, COPYed once: persons, workplaces, and employers drawn by weight
        (one draw per row of bench_gen_employer), for the months' INSERT ... SELECT to pick from."""
        employers = self.rng.choices(self.enterprises, cum_weights=self.cumulative, k=EMPLOYER_DRAWS)
        with connection.cursor() as cursor:
            for table, values in (
                ("bench_gen_person", self.persons),
                ("bench_gen_workplace", self.workplaces),
                ("bench_gen_employer", employers),
            ):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE UNLOGGED TABLE {table} (n integer PRIMARY KEY, value text NOT NULL)")
                copy_text(f"COPY {table} (n, value) FROM STDIN", "".join(f"{n}\t{v}\n" for n, v in enumerate(values)))
                cursor.execute(f"ANALYZE {table}")

    def month(self, base: int, first: date) -> None:
        """One month's registrations and their events, drawn by PostgreSQL itself (the shapes
        of Generator.chunk; a COPY fed by Python was CPU-bound on this machine)."""
        extra = extra_columns()
        generic, large_sender = self.senders
        after = month_end(first)
        parameters: dict[str, Any] = {
            "month": month_number(first) << MONTH_SHIFT, "base": base, "first": first, "days": (after - first).days,
            "rows": self.plan.month_rows, "large": self.large, "generic": generic, "large_sender": large_sender,
            "persons": len(self.persons), "workplaces": len(self.workplaces), "employers": EMPLOYER_DRAWS,
            "large_share": LARGE_SHARE, **{f"extra{i}": value for i, (_, value) in enumerate(extra)},
        }  # fmt: skip
        statement = REGISTRATIONS_SQL.format(
            extra="".join(f", {name}" for name, _ in extra),
            neutral="".join(f", %(extra{i})s" for i in range(len(extra))),
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(%s)", [base % 997 / 997])
            cursor.execute(statement, parameters)
            cursor.execute(EVENTS_SQL, {"first": first, "after": after, "validated": VALIDATED_SHARE,
                                        "consulted": CONSULTED_SHARE})  # fmt: skip

    def chunk(self, base: int, count: int, first: date, days: int, tail: str) -> tuple[str, str]:
        rng, generic, large_sender = self.rng, *self.senders
        employers = rng.choices(self.enterprises, cum_weights=self.cumulative, k=count)
        month = month_number(first) << MONTH_SHIFT
        rows, events = [], []
        for index in range(base, base + count):
            is_large = rng.random() < LARGE_SHARE
            employer = self.large if is_large else employers[index - base]
            day = first + timedelta(days=rng.randrange(days))
            failed = rng.random() < 0.1
            identifier = month | (index + 1)
            rows.append(
                f"{identifier}\t1\tWS\t{large_sender if is_large else generic}\t{employer}\tenterprise\t"
                f"{day}T08:00:00Z\t{day}\t{rng.choice(self.persons)}\t\t{employer}\t\t"
                f"{rng.choice(self.workplaces)}\t\t{{}}\t{'failed' if failed else 'validated'}\t"
                f"{16384 if failed else 0}\t\t\t\tb{index}\t{day}T08:00:01Z{tail}"
            )
            events.append(self.history(identifier, day, 1 + (rng.random() < VALIDATED_SHARE)))
        return "".join(rows), "".join(events)

    def history(self, identifier: int, day: date, count: int) -> str:
        """The hash-chained events of one registration, as COPY lines."""
        at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        kinds: list[tuple[str, dict[str, Any]]] = [(EventType.CREATED, {})]
        if count > 1:
            kinds.append((EventType.VALIDATED, {"status": "validated", "remarks": []}))
            if self.rng.random() < CONSULTED_SHARE / VALIDATED_SHARE:
                kinds.append((EventType.CONSULTED, {}))
        lines, prev = [], ""
        for seq, (kind, data) in enumerate(kinds, 1):
            when = at + timedelta(seconds=seq)
            digest = event_hash(registration_id=identifier, seq=seq, event_type=kind, occurred_at=when,
                                actor="bench", channel="WS", data=data, prev_hash=prev)  # fmt: skip
            event_id = identifier << 2 | seq  # unique, and in the registration's order
            lines.append(f"{event_id}\t{identifier}\t{day}\t{seq}\t{kind}\t{when.isoformat()}\tbench\tWS\t"
                         f"{json.dumps(data)}\t{prev}\t{digest}\n")  # fmt: skip
            prev = digest
        return "".join(lines)


def extra_columns() -> list[tuple[str, str]]:
    """The registration columns added to the model after bench/search.py's list, each with a
    neutral value."""
    with connection.cursor() as cursor:
        return stack.unfilled_columns(cursor, REGISTRATIONS, "id, " + COPY_COLUMNS)


def registration_columns() -> tuple[str, str]:
    """The COPY column list of a registration line and the neutral values that end each line."""
    extra = extra_columns()
    columns = ", ".join(["id", COPY_COLUMNS, *(name for name, _ in extra)])
    return columns, "".join(f"\t{value}" for _, value in extra) + "\n"


def flat_copy(newest: date) -> None:
    """The ingest floor: an unpartitioned table with the registrations' columns and indexes,
    holding the newest month's rows (what the partition an ingest lands in holds)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {FLAT}")
        cursor.execute(f"CREATE TABLE {FLAT} (LIKE {REGISTRATIONS} INCLUDING DEFAULTS INCLUDING INDEXES)")
        cursor.execute(
            f"INSERT INTO {FLAT} SELECT * FROM {REGISTRATIONS}"
            " WHERE registration_date >= %s AND registration_date < %s",
            [newest, month_end(newest)],
        )
        cursor.execute(f"VACUUM ANALYZE {FLAT}")


def table_sizes() -> dict[str, dict[str, int]]:
    """Rows and bytes on disk (heap and TOAST, indexes) of the registrations and the events."""
    sizes_ = {}
    with connection.cursor() as cursor:
        for table in (REGISTRATIONS, EVENTS):
            cursor.execute(
                "SELECT coalesce(sum(c.reltuples), 0)::bigint, coalesce(sum(pg_table_size(c.oid)), 0)::bigint,"
                " coalesce(sum(pg_indexes_size(c.oid)), 0)::bigint FROM pg_inherits i"
                " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                [table],
            )
            rows, heap, indexes = cursor.fetchone()
            sizes_[table] = {"rows": int(rows), "table_bytes": int(heap), "index_bytes": int(indexes)}
    return sizes_


def _cumulative(weights: list[float]) -> list[float]:
    cumulative, total = [], 0.0
    for weight in weights:
        total += weight
        cumulative.append(total)
    return cumulative


def copy_text(statement: str, text: str) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(text)


def create_months(firsts: list[date]) -> None:
    """pg_partman's partitions for the plan's months (the migration made only today's and the
    months ahead); no row may land in the DEFAULT partition."""
    with connection.cursor() as cursor:
        for table in (REGISTRATIONS, EVENTS):
            cursor.execute(
                "SELECT partman.create_partition_time(%s, %s::timestamptz[])",
                [f"public.{table}", [datetime(d.year, d.month, 1, tzinfo=UTC) for d in firsts]],
            )


def drop_secondary_indexes() -> list[str]:
    """Drops the indexes no constraint needs; returns their definitions, to rebuild after."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [[REGISTRATIONS, EVENTS]],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in indexes]


def rebuild(indexes: list[str]) -> None:
    print(f"  building {len(indexes)} indexes, VACUUM ANALYZE ...", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for definition in indexes:
            cursor.execute(definition.replace(" ON ONLY ", " ON "))
        cursor.execute(
            "SELECT setval('registrations_registration_id_seq', (SELECT max(id) & ((1::bigint << %s) - 1)"
            " FROM registrations_registration))",
            [MONTH_SHIFT],
        )
        cursor.execute("SELECT setval('history_historyevent_id_seq', (SELECT max(id) FROM history_historyevent))")
        cursor.execute(f"VACUUM ANALYZE {REGISTRATIONS}")
        cursor.execute(f"VACUUM ANALYZE {EVENTS}")
    print(f"  indexes and VACUUM in {time.perf_counter() - started:.0f} s", flush=True)
