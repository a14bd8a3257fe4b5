"""Many rows in one INSERT, the database generating their ids: the set-wise write path.

The hot batch services (200 registrations and their events per call) write through here
instead of `bulk_create`, which prepares every field of every model instance (Django's
`get_db_prep_save`, about 30 fields x 200 rows) before a statement that itself is cheap. Here
the caller hands rows as tuples already in column order, and only the few kinds of values
the database driver cannot take as they are (JSON, and on SQLite UUIDs and datetimes) are
converted, once per value.

PostgreSQL: `INSERT ... SELECT ... FROM unnest(%s::type[], ...) WITH ORDINALITY ... ORDER BY
n RETURNING id`, one array per column whose values differ (see `_insert_postgresql`).
SQLite: `INSERT ... VALUES (...), (...) RETURNING id`, in chunks under its limit of bound
variables. Both answer the generated ids in the order of the rows (Django's own
`bulk_create` relies on the same order). The ids are never supplied by us: whatever generates
them (a sequence, a default, a trigger) keeps doing so.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from uuid import UUID

from django.db import connection

__all__ = ["Column", "Kind", "insert_returning_ids"]

_SQLITE_MAX_VARIABLES = 32766  # SQLITE_MAX_VARIABLE_NUMBER since SQLite 3.32


class Kind(Enum):
    """How a column's Python values reach the database driver."""

    PLAIN = "plain"  # str, int, bool, Decimal, date, None: the driver takes them as they are
    JSON = "json"  # a dict or list (None: SQL NULL), sent as its JSON text
    UUID = "uuid"  # a UUID or None (SQLite stores 32 hex digits, as Django does)
    DATETIME = "datetime"  # an aware datetime or None (SQLite stores naive UTC text, as Django does)


@dataclass(frozen=True)
class Column:
    """One column written by `insert_returning_ids`: its name, its PostgreSQL array cast
    (`text`, `jsonb`, `timestamptz`, ...) and how its values are sent."""

    name: str
    pg_type: str
    kind: Kind = Kind.PLAIN


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _uuid_hex(value: UUID | None) -> str | None:
    return None if value is None else value.hex


def _converter(kind: Kind, vendor: str) -> Callable[[Any], Any] | None:
    if kind == Kind.JSON:
        return _json
    if vendor == "postgresql":
        return None
    if kind == Kind.UUID:
        return _uuid_hex
    if kind == Kind.DATETIME:
        return connection.ops.adapt_datetimefield_value
    return None


def _prepared_columns(columns: Sequence[Column], rows: Sequence[Sequence[Any]], vendor: str) -> list[list[Any]]:
    """The rows turned into one list of driver-ready values per column."""
    prepared = []
    for position, column in enumerate(columns):
        values = [row[position] for row in rows]
        convert = _converter(column.kind, vendor)
        prepared.append(values if convert is None else [convert(value) for value in values])
    return prepared


def insert_returning_ids(table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Insert `rows` (tuples in the order of `columns`) into `table` in one statement (SQLite:
    one per 32,766 bound values) and return the ids the database gave them, in row order.

    `table` and the column names are the caller's constants, never input. Runs in the
    caller's transaction; a violated constraint raises IntegrityError and writes nothing.
    """
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _insert_postgresql(table, columns, rows)
    values = _prepared_columns(columns, rows, connection.vendor)
    names = ", ".join(column.name for column in columns)
    return _insert_in_chunks(table, names, len(columns), list(zip(*values, strict=True)))


def _insert_postgresql(table: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[int]:
    """`INSERT ... SELECT ... FROM unnest(...) WITH ORDINALITY ... ORDER BY n RETURNING id`.

    What the driver spends its time on is quoting array elements, so each column is sent
    the cheapest way that keeps its values: one value when the whole batch shares it (the
    sender, the creation time, the empty columns), one JSON array for a JSON column (one
    `json.dumps`; row n takes element n, JSON null is SQL NULL as Django stores None), an
    array to unnest otherwise.
    """
    expressions: list[str] = []
    scalars: list[Any] = []
    arrays: list[tuple[str, list[Any]]] = []
    for position, column in enumerate(columns):
        values = [row[position] for row in rows]
        first = values[0]
        if all(value == first for value in values):
            expressions.append(f"%s::{column.pg_type}")
            scalars.append(_json(first) if column.kind == Kind.JSON else first)
        elif column.kind == Kind.JSON:
            expressions.append("nullif((%s::jsonb) -> (u.n::integer - 1), 'null'::jsonb)")
            scalars.append(json.dumps(values))
        else:
            alias = f"c{len(arrays)}"
            expressions.append(f"u.{alias}")
            arrays.append((f"%s::{column.pg_type}[]", values))
    if arrays:
        unnested = ", ".join(cast for cast, _ in arrays)
        aliases = ", ".join(f"c{index}" for index in range(len(arrays)))
        source = f"unnest({unnested}) WITH ORDINALITY AS u({aliases}, n)"
        parameters = [*scalars, *(values for _, values in arrays)]
    else:
        source = "generate_series(1, %s) AS u(n)"
        parameters = [*scalars, len(rows)]
    names = ", ".join(column.name for column in columns)
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {', '.join(expressions)} "  # noqa: S608 - constants only
        f"FROM {source} ORDER BY u.n RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return [row[0] for row in cursor.fetchall()]


def _insert_in_chunks(table: str, names: str, width: int, rows: list[tuple[Any, ...]]) -> list[int]:
    per_statement = max(1, _SQLITE_MAX_VARIABLES // width)
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            sql = f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholders] * len(chunk))} RETURNING id"  # noqa: S608
            cursor.execute(sql, [value for row in chunk for value in row])
            ids.extend(row[0] for row in cursor.fetchall())
    return ids
