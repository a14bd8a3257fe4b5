"""The set-wise insert of new registrations: one statement per batch, ids from the database.

`REGISTRATION_COLUMNS` is the one list of the columns a new registration is written with,
in the order of `RegistrationRow`'s attributes of the same names: a column added to
`Registration` is added here and to `RegistrationRow` (its default), nowhere else.
"""

from collections.abc import Sequence

from django.db import connection

from config.set_insert import Column, Kind, insert_returning_ids
from registrations.domain.rows import RegistrationRow
from registrations.models import Registration

__all__ = ["REGISTRATION_COLUMNS", "registration_of", "registrations_insert"]

REGISTRATION_COLUMNS = (
    Column("sector", "smallint"),
    Column("channel", "text"),
    Column("sender_id", "uuid", Kind.UUID),
    Column("sender_enterprise_number", "text"),
    Column("sender_role", "text"),
    Column("created_at", "timestamptz", Kind.DATETIME),
    Column("registration_date", "date"),
    Column("niss", "text"),
    Column("limosa_id", "text"),
    Column("enterprise_number", "text"),
    Column("foreign_vat_number", "text"),
    Column("workplace_id", "text"),
    Column("client_reference", "text"),
    Column("submitted", "jsonb", Kind.JSON),
    Column("dedup_key", "text"),
    Column("event_type", "text"),
    Column("event_at", "timestamptz", Kind.DATETIME),
    Column("activity", "text"),
    Column("latitude", "numeric"),
    Column("longitude", "numeric"),
    Column("place_address", "jsonb", Kind.JSON),
    Column("status", "text"),
    Column("remark_mask", "bigint"),
    Column("validated_at", "timestamptz", Kind.DATETIME),
    Column("cancelled_at", "timestamptz", Kind.DATETIME),
    Column("cancellation_reason", "text"),
    Column("corrects_id", "bigint"),
    Column("legal_hold", "boolean"),
)
_NAMES = tuple(column.name for column in REGISTRATION_COLUMNS)


def registrations_insert(rows: Sequence[RegistrationRow]) -> None:
    """Insert new registrations with one statement and give each row the id the database
    generated. Runs in the caller's transaction; a resend racing a concurrent call violates
    the partial unique index (sender, dedup_key) and raises IntegrityError, writing nothing."""
    values = [tuple(getattr(row, name) for name in _NAMES) for row in rows]
    ids = insert_returning_ids(Registration._meta.db_table, REGISTRATION_COLUMNS, values)
    for row, registration_id in zip(rows, ids, strict=True):
        row.id = registration_id


def registration_of(row: RegistrationRow) -> Registration:
    """The stored registration a written row is, as a model instance, without a query (for
    the callers that want one: the console, the demo, tests)."""
    if not row.id:
        raise ValueError("the row has not been inserted yet")
    names = [field.attname for field in Registration._meta.concrete_fields]
    return Registration.from_db(connection.alias, names, [getattr(row, name) for name in names])
