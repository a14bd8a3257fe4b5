"""Writing the request log, and its daily purge: the only code that writes or deletes records."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from requestlog.models import Channel, Outcome, RequestLog
from requestlog.redaction import redacted

logger = logging.getLogger(__name__)

# An error answer (a problem, a fault) is short; more than this is not worth keeping.
ERROR_BODY_MAX_CHARS = 8192
_PURGE_CHUNK = 10_000


@dataclass(frozen=True)
class CallRecord:
    """A call as answered, before its bodies are masked: what `request_log_record` writes."""

    ticket: UUID
    at: datetime
    channel: Channel
    client_id: UUID | None
    operation: str
    path: str
    duration_ms: float
    http_status: int
    error: str
    items: dict[str, Any]
    request_body: bytes
    error_body: bytes

    @property
    def outcome(self) -> Outcome:
        if self.error or self.http_status >= 400:
            return Outcome.ERROR
        return Outcome.ITEM_ERRORS if self.items.get("refused") else Outcome.SUCCESS


def request_log_record(*, record: CallRecord) -> RequestLog | None:
    """Write one call's record, its bodies with every NISS masked (and cut to
    REQUEST_LOG_BODY_MAX_CHARS); returns it, or None when the database refused it.

    Runs after the call was answered (the gateways' middleware), so the call itself never
    waits for it nor fails with it: a database error here is logged, with the record's ticket,
    client and operation, and the record is lost; nothing the call stored is touched. A call
    without an authenticated client is recorded without its body: nobody but an operator could
    read it, and an anonymous flood must not fill the log.
    """
    authenticated = record.client_id is not None
    row = RequestLog(
        ticket=record.ticket,
        at=record.at,
        client_id=record.client_id,
        channel=record.channel,
        operation=record.operation[:64],
        path=redacted(record.path, max_chars=200),
        duration_ms=record.duration_ms,
        http_status=record.http_status,
        outcome=record.outcome,
        error=record.error[:80],
        items=record.items,
        request_body=redacted(record.request_body, max_chars=settings.REQUEST_LOG_BODY_MAX_CHARS)
        if authenticated
        else "",
        error_body=redacted(record.error_body, max_chars=ERROR_BODY_MAX_CHARS),
    )
    try:
        if connection.in_atomic_block:  # a test's transaction: a failure rolls back to here only
            with transaction.atomic():
                _insert(row)
        else:
            _insert(row)
    except DatabaseError as exc:
        logger.error(
            "request log: the record of call %s (%s %s, client %s, HTTP %s) could not be written: %s",
            record.ticket,
            record.channel,
            record.operation or "-",
            record.client_id or "-",
            record.http_status,
            type(exc).__name__,
        )
        return None
    return row


# set_config(..., true) applies to the statement's own transaction, and so to its commit. The
# table, the columns (the model's) and the placeholders are filled in; values are parameters.
_ASYNCHRONOUS_INSERT = (
    "WITH asynchronous AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO {table} ({columns}) SELECT {values} FROM asynchronous RETURNING id"
)


def _insert(row: RequestLog) -> None:
    """One statement. On PostgreSQL its commit does not wait for the disk: the WAL flush a
    commit waits for costs more than the rest of a small call (docs/performance.md); the
    record reaches the disk a fraction of a second later, and only a crash of the database
    server in between loses it. The call's registrations were committed, durably, before
    (docs/adr/0016). SQLite in WAL mode with synchronous=NORMAL never waits for the disk."""
    if connection.vendor != "postgresql":
        row.save(force_insert=True)
        return
    fields = [field for field in RequestLog._meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields]
    statement = _ASYNCHRONOUS_INSERT.format(
        table=RequestLog._meta.db_table,
        columns=", ".join(connection.ops.quote_name(str(field.column)) for field in fields),
        values=", ".join(["%s"] * len(values)),
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, values)
        row.pk = cursor.fetchone()[0]
        row._state.adding, row._state.db = False, connection.alias


def request_logs_purge_expired(*, now: datetime | None = None) -> int:
    """Delete the records older than REQUEST_LOG_DAYS; returns how many left.

    The only code that deletes records: on PostgreSQL the append-only trigger lets a DELETE
    through only while the transaction-local `presence.request_log_purge` is 'on'. Deleted in
    chunks, each its own short transaction, so a large purge never holds a long lock.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.REQUEST_LOG_DAYS)
    table = RequestLog._meta.db_table
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('presence.request_log_purge', 'on', true)")
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE at < %s ORDER BY id LIMIT %s)",  # noqa: S608 - the table name is ours
                [cutoff, _PURGE_CHUNK],
            )
            chunk = int(cursor.rowcount)
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config('presence.request_log_purge', 'off', true)")
        deleted += chunk
        if chunk < _PURGE_CHUNK:
            break
    if deleted:
        logger.info("request log: %d records older than %s purged", deleted, cutoff.isoformat())
    return deleted
