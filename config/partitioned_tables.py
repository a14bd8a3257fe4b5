"""The upgrade of a plain PostgreSQL table into one partitioned by month with pg_partman, for
migrations (docs/adr/0018-partitioning-and-keys.md).

`convert_to_monthly_partitions` renames the table, creates the partitioned one with the same
columns, lets pg_partman create its monthly partitions (from the oldest month present, plus
`PREMAKE_MONTHS` ahead, plus a DEFAULT partition), moves the rows, drops the old table, then
recreates its constraints, indexes and triggers on the partitioned table. A primary key or a
unique constraint or index gains the partition key (PostgreSQL requires it); every other
definition is recreated exactly as it was, read from the catalogue before the rename.
"""

from dataclasses import dataclass
from typing import Any

from config.partitioning import PREMAKE_MONTHS

PARTMAN_SCHEMA = "partman"


@dataclass(frozen=True)
class _Definitions:
    constraints: list[tuple[str, str, str]]  # name, type (p, u, f), definition
    indexes: list[str]  # CREATE INDEX statements not behind a constraint
    triggers: list[str]


def install_partman(cursor: Any) -> None:
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {PARTMAN_SCHEMA}")
    cursor.execute(f"CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA {PARTMAN_SCHEMA}")


def _definitions(cursor: Any, table: str) -> _Definitions:
    cursor.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY conname",
        [table],
    )
    constraints = [(name, kind, definition) for name, kind, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)"
        " ORDER BY indexname",
        [table, table],
    )
    indexes = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        [table],
    )
    return _Definitions(constraints, indexes, [row[0] for row in cursor.fetchall()])


def _with_key(columns: str, key: str) -> str:
    """A column list (as in `(a, b)`) with the partition key added when it is missing."""
    names = [name.strip() for name in columns.split(",")]
    return ", ".join([*names, key]) if key not in names else columns


def _keyed_constraint(definition: str, key: str) -> str:
    """`PRIMARY KEY (id)` -> `PRIMARY KEY (id, key)`; same for UNIQUE (...)."""
    head, _, rest = definition.partition("(")
    columns, _, tail = rest.partition(")")
    return f"{head}({_with_key(columns, key)}){tail}"


def _keyed_index(statement: str, key: str) -> str:
    """A CREATE UNIQUE INDEX statement with the partition key added to its columns."""
    if not statement.startswith("CREATE UNIQUE INDEX"):
        return statement
    head, marker, rest = statement.partition(" USING btree (")
    columns, _, tail = rest.partition(")")
    return f"{head}{marker}{_with_key(columns, key)}){tail}"


def convert_to_monthly_partitions(cursor: Any, *, table: str, key: str, select: str | None = None) -> None:
    """Turn `table` into a table partitioned by month of `key` (see the module's docstring).

    `select` is the query that yields the old rows in the new column order; by default the old
    table itself (`SELECT * FROM <table>_unpartitioned`).
    """
    old = f"{table}_unpartitioned"
    definitions = _definitions(cursor, table)
    cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
    cursor.execute(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE ("{key}")'
    )
    cursor.execute(f'SELECT min("{key}") FROM "{old}"')  # noqa: S608 - names from the migration
    oldest = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT {PARTMAN_SCHEMA}.create_parent(%s, %s, 'native', 'monthly', p_premake => %s, p_start_partition => %s)",
        [f"public.{table}", key, PREMAKE_MONTHS, oldest.replace(day=1).isoformat() if oldest else None],
    )
    # Months keep being made ahead even while no row arrives in the newest ones, and pg_partman
    # drops nothing by itself: the purge decides which months leave (retention.py).
    cursor.execute(
        f"UPDATE {PARTMAN_SCHEMA}.part_config SET infinite_time_partitions = true, retention = NULL"  # noqa: S608
        " WHERE parent_table = %s",
        [f"public.{table}"],
    )
    cursor.execute(f'INSERT INTO "{table}" {select or f"SELECT * FROM {old}"}')  # noqa: S608 - names from the migration
    cursor.execute(f'DROP TABLE "{old}"')
    for name, kind, definition in definitions.constraints:
        keyed = _keyed_constraint(definition, key) if kind in ("p", "u") else definition
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {keyed}')
    for statement in definitions.indexes:
        cursor.execute(_keyed_index(statement, key))
    for statement in definitions.triggers:
        cursor.execute(statement)
    cursor.execute(f'ANALYZE "{table}"')


def own_id_sequence(cursor: Any, *, table: str) -> str:
    """A sequence for `table.id`, owned by the column (so Django's flush resets it), continuing
    after the highest id present; returns its name."""
    sequence = f"{table}_id_seq"
    cursor.execute(f'CREATE SEQUENCE "{sequence}" OWNED BY "{table}".id')
    cursor.execute(f'SELECT setval(%s, coalesce(max(id), 0) + 1, false) FROM "{table}"', [sequence])  # noqa: S608
    return sequence
