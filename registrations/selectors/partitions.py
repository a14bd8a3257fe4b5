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
    is_partitioned,
    monthly_partitions,
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


def _months_ahead(table: str, today: date) -> int:
    partitions = monthly_partitions(table)
    if not partitions:
        return 0
    after = max(end for _, _, end in partitions)
    return (after.year * 12 + after.month) - (today.year * 12 + today.month) - 1


def _default_rows(table: str, since: date) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{default_partition(table)}" WHERE registration_date >= %s',  # noqa: S608 - a constant name
            [since],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def partition_health(*, today: date | None = None) -> PartitionHealth | None:
    """The months made ahead and the rows gone to a DEFAULT partition (dated from the retention
    cutoff on), or None where the tables are not partitioned."""
    if not all(is_partitioned(table) for table in PARTITIONED_TABLES):
        return None
    today = today or timezone.localdate()
    since = retention_cutoff(today)
    return PartitionHealth(
        months_ahead=min(_months_ahead(table, today) for table in PARTITIONED_TABLES),
        default_rows=sum(_default_rows(table, since) for table in PARTITIONED_TABLES),
        since=since,
    )
