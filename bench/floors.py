"""The write benchmarks' two floors, both measured in the same run as the operation.

- The **bare floor** is a physical limit: the lxml parse of the same envelope and a psycopg
  COPY of the same registration rows into a temporary copy of the registrations table (no
  history, no outbox, no WAL: a temporary table is not logged), emptied after each call.
- The **durable floor** does the same durable work as the service: the parse, then ONE
  transaction that COPYs the same registration rows, their `registration.created` events
  (hash-chained by `history.services.event_hash`, as the service chains them) and the events'
  outbox entries into real, logged tables with the indexes, checks, defaults and foreign keys
  of the service's tables, committed. It skips what is not durable work: admission,
  authentication, the resend look-up, the validation hand-off and the answer.

The durable tables (`DURABLE`) are copies made in the benchmark's own database
(`CREATE TABLE … (LIKE … INCLUDING ALL)` plus the originals' foreign keys, pointed at the
copies among themselves): the service's tables stay as the service left them, and no worker
validates or publishes the floor's rows. The history table's triggers fire on UPDATE and
DELETE only, so an insert costs them nothing and they are not copied.

Every call writes fresh resend keys (`fresh_key`): the partial unique index on (sender,
dedup_key) is in both copies, and a floor that wrote the same keys twice would die on it.
"""

import itertools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from lxml import etree

from bench import stack
from history.events import PUBLISHED_EVENT_TYPES, EventType
from history.services import event_hash
from registrations.domain.vocabulary import Status
from soap_gateway.types import PR

BARE_TABLE = "bench_registration"
DURABLE = {
    "registrations_registration": "bench_durable_registration",
    "history_historyevent": "bench_durable_event",
    "history_outboxentry": "bench_durable_outbox",
}
EVENT_COLUMNS = (
    "id", "registration_id", "seq", "event_type", "occurred_at", "actor", "channel", "data", "prev_hash", "hash",
    "registration_date",
)  # fmt: skip
_TYPES = "{http://socialsecurity.be/presenceregistration/schemas/v1}"
_CALLS = itertools.count(1)

BARE_SOAP = "bare floor: lxml parse + COPY into a temp table (no history, no WAL)"
DURABLE_SOAP = "durable floor: parse + 1 committed transaction, COPY of rows, events, outbox"
DURABLE_REST = "durable floor: 1 committed transaction, COPY of rows, events, outbox"
SOAP_COLUMNS = (
    "sector", "channel", "sender_id", "sender_enterprise_number", "sender_role", "created_at", "registration_date",
    "niss", "limosa_id", "enterprise_number", "foreign_vat_number", "workplace_id", "client_reference", "submitted",
    "status", "remark_mask", "cancellation_reason", "event_type", "activity", "dedup_key",
)  # fmt: skip


def fresh_key(key: str) -> str:
    """`key` made unique to this call of a floor (a process-wide counter)."""
    return f"{key}|{next(_CALLS)}"


@dataclass(frozen=True)
class Sender:
    """Who the floor's rows are from: an existing client (the foreign key is checked)."""

    client_id: object  # the client's primary key (a UUID)
    enterprise_number: str
    role: str = "enterprise"


def soap_rows(data: bytes, sender: Sender, now: datetime) -> list[dict[str, Any]]:
    """The registration rows of a `registerPresences` envelope, as the service stores them
    (sector, channel, sender, the normalised fields, the item as submitted, a resend key)."""
    today = now.date().isoformat()
    rows = []
    for item in etree.fromstring(data).iter(f"{{{PR}}}PresenceRegistrationRequest"):
        submitted = {etree.QName(child).localname: child.text for child in item.iter(f"{_TYPES}*")}
        niss, workplace = submitted.get("INSS") or "", submitted.get("WorkPlaceId") or ""
        company = (submitted.get("CompanyID") or "").zfill(10)  # the service's normalised form
        rows.append(
            {
                "sector": 1, "channel": "WS", "sender_id": sender.client_id,
                "sender_enterprise_number": sender.enterprise_number, "sender_role": sender.role,
                "created_at": now, "registration_date": today, "niss": niss, "limosa_id": "",
                "enterprise_number": company, "foreign_vat_number": "", "workplace_id": workplace,
                "client_reference": "", "submitted": json.dumps(submitted), "status": Status.REGISTERED.value,
                "remark_mask": 0, "cancellation_reason": "", "event_type": "", "activity": "",
                "dedup_key": fresh_key(f"{today}|{workplace}|{company}|{niss}"),
            }
        )  # fmt: skip
    return rows


def _copy(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


class BareFloor:
    """COPY of registration rows into a temporary copy of the registrations table, on a
    connection of its own (autocommit; one per thread), emptied after each call (not timed)."""

    def __init__(self, database_url: str, columns: Sequence[str]) -> None:
        self.connection = psycopg.connect(database_url, autocommit=True)
        stack.scratch_copy(self.connection.cursor(), BARE_TABLE, ", ".join(columns), temporary=True)

    def write(self, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        with self.connection.cursor() as cursor:
            _copy(cursor, BARE_TABLE, columns, [list(row.values()) for row in rows])

    def empty(self) -> None:
        self.connection.execute(f"TRUNCATE {BARE_TABLE}")

    def close(self) -> None:
        self.connection.close()


def create_durable_tables(database_url: str, columns: Sequence[str]) -> None:
    """(Re)create the durable floor's tables: real copies of the registrations, history and
    outbox tables with every index, check and default (`LIKE … INCLUDING ALL`) and the
    originals' foreign keys, those among the three pointed at the copies. The registration
    columns outside `columns` default to neutral values (they are not NULL, without a default)."""
    drop_durable_tables(database_url)
    with psycopg.connect(database_url, autocommit=True) as connection:
        _copy_tables(connection.cursor(), columns)


def _copy_tables(cursor: psycopg.Cursor[Any], columns: Sequence[str]) -> None:
    for original, copy in DURABLE.items():
        cursor.execute(f"CREATE TABLE {copy} (LIKE {original} INCLUDING ALL)")
        _own_ids(cursor, copy)
    for original, copy in DURABLE.items():
        cursor.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [original],
        )
        for (definition,) in cursor.fetchall():
            for referenced, referenced_copy in DURABLE.items():
                definition = definition.replace(f"REFERENCES {referenced}(", f"REFERENCES {referenced_copy}(")
            cursor.execute(f"ALTER TABLE {copy} ADD {definition}")
    registrations = DURABLE["registrations_registration"]
    for column, value in stack.unfilled_columns(cursor, registrations, ", ".join(columns)):
        cursor.execute(f"ALTER TABLE {registrations} ALTER COLUMN {column} SET DEFAULT '{value}'")


def _own_ids(cursor: psycopg.Cursor[Any], copy: str) -> None:
    """Ids from a sequence of the copy's own. The partitioned tables' ids come from a trigger
    and a shared sequence (docs/adr/0019), which LIKE does not give a copy: it copies the
    default that names the original's sequence, which `pg_get_serial_sequence` does not know."""
    cursor.execute(
        "SELECT is_identity FROM information_schema.columns WHERE table_name = %s AND column_name = 'id'", [copy]
    )
    row = cursor.fetchone()
    if row and row[0] == "NO":
        cursor.execute(f"ALTER TABLE {copy} ALTER COLUMN id DROP DEFAULT")
        cursor.execute(f"ALTER TABLE {copy} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")


def drop_durable_tables(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for copy in reversed(DURABLE.values()):
            connection.execute(f"DROP TABLE IF EXISTS {copy} CASCADE")


def _created_data(row: dict[str, Any]) -> dict[str, Any]:
    """The `registration.created` event's data, as `registrations.services.batches` writes it."""
    data = {"status": Status.REGISTERED.label, "sector": row["sector"]}
    return data | ({"event": row["event_type"]} if row.get("event_type") else {})


class DurableFloor:
    """Writes registration rows the durable way on a connection of its own (one per thread).

    `write` is one transaction: ids for the rows and their events taken from the copies'
    sequences in one query, a COPY of the rows, a COPY of their `registration.created` events
    (first of their chains, hash-chained as the service does it), a COPY of the outbox entries
    of the published ones; then COMMIT, with the server's synchronous_commit (the service's).
    Any error propagates: a floor that fails must fail its benchmark.
    """

    def __init__(self, database_url: str) -> None:
        self.connection = psycopg.connect(database_url)
        registrations, events = DURABLE["registrations_registration"], DURABLE["history_historyevent"]
        self.ids_sql = (
            f"SELECT nextval(pg_get_serial_sequence('{registrations}', 'id')),"
            f" nextval(pg_get_serial_sequence('{events}', 'id')) FROM generate_series(1, %s)"
        )

    def write(self, rows: list[dict[str, Any]], *, actor: str, channel: str) -> None:
        when = rows[0]["created_at"]
        with self.connection.transaction(), self.connection.cursor() as cursor:
            ids = cursor.execute(self.ids_sql, [len(rows)]).fetchall()
            columns = ["id", *rows[0]]
            _copy(
                cursor,
                DURABLE["registrations_registration"],
                columns,
                [[registration_id, *row.values()] for (registration_id, _), row in zip(ids, rows, strict=True)],
            )
            events = [
                self._created_event(registration_id, event_id, row, when, actor, channel)
                for (registration_id, event_id), row in zip(ids, rows, strict=True)
            ]
            _copy(cursor, DURABLE["history_historyevent"], EVENT_COLUMNS, events)
            published = [(event[0],) for event in events if event[3] in PUBLISHED_EVENT_TYPES]
            _copy(cursor, DURABLE["history_outboxentry"], ["event_id"], published)

    @staticmethod
    def _created_event(
        registration_id: int, event_id: int, row: dict[str, Any], when: datetime, actor: str, channel: str
    ) -> tuple[Any, ...]:
        data = _created_data(row)
        digest = event_hash(
            registration_id=registration_id, seq=1, event_type=str(EventType.CREATED), occurred_at=when,
            actor=actor, channel=channel, data=data, prev_hash="",
        )  # fmt: skip
        created = str(EventType.CREATED)
        return (
            event_id, registration_id, 1, created, when, actor, channel, json.dumps(data), "", digest,
            row["registration_date"],
        )  # fmt: skip

    def close(self) -> None:
        self.connection.close()


def soap_bare_seconds(floor: BareFloor, data: bytes, sender: Sender) -> float:
    """The bare floor of one `registerPresences`: parse + COPY into the temporary table."""
    started = time.perf_counter()
    floor.write(soap_rows(data, sender, datetime.now(UTC)))
    elapsed = time.perf_counter() - started
    floor.empty()
    return elapsed


def soap_durable_seconds(floor: DurableFloor, data: bytes, sender: Sender, actor: str) -> float:
    """The durable floor of one `registerPresences`: parse + the committed transaction."""
    started = time.perf_counter()
    floor.write(soap_rows(data, sender, datetime.now(UTC)), actor=actor, channel="WS")
    return time.perf_counter() - started
