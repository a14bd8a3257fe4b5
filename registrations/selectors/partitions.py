"""Are the months ahead there? The partitions' health, for the alarm in the log, the metrics
and the operators' dashboard (docs/operations.md, docs/adr/0018-partitioning-and-keys.md).

PostgreSQL only: on SQLite nothing is partitioned and there is nothing to watch (None).
"""

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.utils import timezone

from config.partitioning import (
    MONTHS_AHEAD_ALARM,
    PARTITIONED_TABLES,
    default_partition,
)
from registrations.domain.retention import retention_cutoff


@dataclass(frozen=True)
class PartitionHealth:
    # Whole months after the current one that have their partition, in the table that has fewest.
    months_ahead: int
    # Rows in a DEFAULT partition dated on or after `since` (the purge's kept rows, older, do not count):
    # rows whose month had no partition when they arrived.
    default_rows: int
    since: date

    @property
    def months_short(self) -> bool:
        return self.months_ahead < MONTHS_AHEAD_ALARM

    @property
    def ok(self) -> bool:
        return not self.months_short and self.default_rows == 0


def _last_end(table: str) -> str:
    """SQL: the day after the newest month partition of `table` (pg_partman's catalogue)."""
    return (
        "(SELECT i.child_end_time::date"  # noqa: S608 - constant table names
        f" FROM partman.show_partitions('public.{table}', 'DESC') p,"
        " partman.show_partition_info(p.partition_schemaname || '.' || p.partition_tablename,"
        f" p_parent_table => 'public.{table}') i LIMIT 1)"
    )


def _default_rows(table: str) -> str:
    """SQL: the rows of `table`'s DEFAULT partition dated from the first parameter on."""
    return f'(SELECT count(*) FROM "{default_partition(table)}" WHERE registration_date >= %s)'  # noqa: S608


_HEALTH_SQL = "SELECT " + ", ".join(
    [*(_last_end(table) for table in PARTITIONED_TABLES), *(_default_rows(table) for table in PARTITIONED_TABLES)]
)


def _months_after(end: date | None, today: date) -> int:
    if end is None:
        return 0
    return (end.year * 12 + end.month) - (today.year * 12 + today.month) - 1


def partition_health(*, today: date | None = None) -> PartitionHealth | None:
    """The months made ahead and the rows gone to a DEFAULT partition (dated from the retention
    cutoff on), in one query; None on SQLite, where nothing is partitioned (on PostgreSQL the
    migrations always partition both tables)."""
    if connection.vendor != "postgresql":
        return None
    today = today or timezone.localdate()
    since = retention_cutoff(today)
    with connection.cursor() as cursor:
        cursor.execute(_HEALTH_SQL, [since] * len(PARTITIONED_TABLES))
        row = cursor.fetchone()
    count = len(PARTITIONED_TABLES)
    return PartitionHealth(
        months_ahead=min(_months_after(end, today) for end in row[:count]),
        default_rows=sum(int(rows) for rows in row[count:]),
        since=since,
    )
