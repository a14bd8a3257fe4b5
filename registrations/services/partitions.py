"""The months ahead (PostgreSQL): pg_partman's maintenance, run by beat, and its alarm
(docs/operations.md, docs/adr/0018-partitioning-and-keys.md)."""

import logging

from config.partitioning import (
    MONTHS_AHEAD_ALARM,
    PARTITIONED_TABLES,
    is_partitioned,
    move_out_of_default,
    run_maintenance,
)
from registrations.domain.retention import retention_cutoff
from registrations.selectors.partitions import PartitionHealth, partition_health

logger = logging.getLogger(__name__)


def partitions_maintain() -> PartitionHealth | None:
    """Give rows that went to a DEFAULT partition their month (`move_out_of_default`), make the
    months ahead (pg_partman's `run_maintenance`), then check them: a warning in the log when
    rows had to move, when fewer than MONTHS_AHEAD_ALARM months are ready, or when rows are
    still in a DEFAULT partition. None (and nothing done) where the tables are not partitioned
    (SQLite)."""
    if not all(is_partitioned(table) for table in PARTITIONED_TABLES):
        return None
    since = retention_cutoff()
    for table in PARTITIONED_TABLES:
        if moved := move_out_of_default(table, since):
            logger.warning("partitions: %d rows of %s moved from its DEFAULT partition to their months", moved, table)
    run_maintenance()
    health = partition_health()
    if health is not None and health.months_short:
        logger.warning(
            "partitions: only %d months ahead are ready (alarm below %d): pg_partman's maintenance is not keeping up",
            health.months_ahead,
            MONTHS_AHEAD_ALARM,
        )
    if health is not None and health.default_rows:
        logger.warning(
            "partitions: %d rows dated from %s are in a DEFAULT partition (their month had no partition)",
            health.default_rows,
            health.since,
        )
    return health
