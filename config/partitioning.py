"""Registrations and their history are partitioned by month of the registration date on
PostgreSQL (docs/adr/0018-partitioning-and-keys.md); this is what the code needs to know of it.

A registration's id carries its month in the high bits: `month << MONTH_SHIFT | sequence`,
where `month` counts months from 2000-01 (= 1). The database assigns it (a BEFORE INSERT
trigger, registrations/migrations/0012); from an id alone a query can name the one month
where the row lives, so that PostgreSQL reads one partition instead of all of them. Ids
without month bits (SQLite, or rows written before the tables were partitioned) name no
month: their queries stay correct, without pruning.
"""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

MONTH_SHIFT = 40
FIRST_MONTH = date(2000, 1, 1)  # month 1
# The last month an id names (2075-07): ids keep the contract's 15 digits at most (spec §3).
# Later dates get MAX_MONTH + 1, earlier ones 0: such ids name no month and their reads do not
# prune (registrations/migrations/0013). Before 2075 the shift is to be revisited (ADR 0018).
MAX_ID = 999_999_999_999_999
MAX_MONTH = (MAX_ID + 1) // (1 << MONTH_SHIFT) - 2
# Partitions made ahead by pg_partman's maintenance (premake), and the fewest months ahead
# below which the dashboard and the log raise the alarm.
PREMAKE_MONTHS = 4
MONTHS_AHEAD_ALARM = 2
PARTITIONED_TABLES = ("registrations_registration", "history_historyevent")


def month_of_id(registration_id: int) -> tuple[date, date] | None:
    """The month [first day, first day of the next month) a registration id names, if any."""
    month = registration_id >> MONTH_SHIFT
    if not 1 <= month <= MAX_MONTH:
        return None
    years, month_index = divmod(FIRST_MONTH.month - 1 + month - 1, 12)
    first = date(FIRST_MONTH.year + years, month_index + 1, 1)
    after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, after


def months_of_ids(registration_ids: Iterable[int], date_field: str = "registration_date") -> Q:
    """A filter on `date_field` to the months the ids name (nothing when one of them names none),
    to add to a filter by id so the planner reads only those months' partitions."""
    months = [month_of_id(registration_id) for registration_id in registration_ids]
    if not months or any(month is None for month in months):
        return Q()
    known = [month for month in months if month is not None]
    return Q(**{f"{date_field}__gte": min(first for first, _ in known), f"{date_field}__lt": max(a for _, a in known)})


# --- PostgreSQL's partitions, as pg_partman manages them (schema `partman`) ------------------


def is_partitioned(table: str) -> bool:
    """True when `table` is partitioned here (PostgreSQL after registrations/0012, history/0008)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def monthly_partitions(table: str) -> list[tuple[str, date, date]]:
    """The month partitions of `table` (not the DEFAULT one), oldest first: (name, first day,
    first day after)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.partition_tablename, i.child_start_time::date, i.child_end_time::date"
            " FROM partman.show_partitions(%s) p,"
            " partman.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename,"
            " p_parent_table => %s) i ORDER BY i.child_start_time",
            [f"public.{table}", f"public.{table}"],
        )
        return [(name, first, after) for name, first, after in cursor.fetchall()]


def default_partition(table: str) -> str:
    """The name pg_partman gives the DEFAULT partition, where rows of a month without a
    partition go (and the purge's kept rows, registrations/services/retention.py)."""
    return f"{table}_default"


def run_maintenance() -> None:
    """pg_partman's maintenance of every partitioned table: the months ahead are made."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT partman.run_maintenance(p_analyze => false)")


def move_out_of_default(table: str, since: date) -> int:
    """Give the rows dated from `since` that went to the DEFAULT partition (their month had no
    partition) the partitions of their months; returns how many moved. Older rows stay: the
    purge's kept rows live there on purpose.

    pg_partman's maintenance would otherwise fail at the first month it makes that has rows in
    the DEFAULT partition. Its own `partition_data_time` DELETEs from the DEFAULT partition,
    which the history's append-only trigger refuses; so, in one transaction, the DEFAULT
    partition is swapped instead: detached, the months made by pg_partman, an empty DEFAULT
    partition attached, the old one's rows inserted back through the table (each to its month,
    or to the new DEFAULT partition), the old one dropped. Nothing is deleted row by row.
    """
    default = default_partition(table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', registration_date)::date FROM \"{default}\""  # noqa: S608
            " WHERE registration_date >= %s",
            [since],
        )
        months = [row[0] for row in cursor.fetchall()]
        if not months:
            return 0
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending check may stay on the detached table
        cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{default}"')
        cursor.execute(f'ALTER TABLE "{default}" RENAME TO "{default}_moving"')
        cursor.execute(
            "SELECT partman.create_partition_time(%s, %s::timestamptz[], p_analyze => false)",
            [f"public.{table}", [month.isoformat() for month in months]],
        )
        # The DEFAULT partition pg_partman's create_parent made, made again (its indexes,
        # constraints and triggers come from the table, as for every partition).
        cursor.execute(f'CREATE TABLE "{default}" PARTITION OF "{table}" DEFAULT')
        cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{default}_moving"')  # noqa: S608
        cursor.execute(f'SELECT count(*) FROM "{default}_moving" WHERE registration_date >= %s', [since])  # noqa: S608
        moved = int(cursor.fetchone()[0])
        cursor.execute(f'DROP TABLE "{default}_moving"')
    return moved


def _has_default_rows(cursor: Any, table: str, since: date) -> bool:
    cursor.execute(
        f'SELECT EXISTS (SELECT 1 FROM "{default_partition(table)}" WHERE registration_date >= %s)',  # noqa: S608
        [since],
    )
    return bool(cursor.fetchone()[0])


def detach(table: str, partition: str) -> None:
    """Take a month out of `table`: its rows are no longer the table's, nothing is deleted yet."""
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{partition}"')
