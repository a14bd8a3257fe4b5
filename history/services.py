"""Writing history: the only way events are created, and the outbox of the published ones."""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db import IntegrityError, connection, models, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.dispatch import Signal
from django.utils import timezone

from config.partitioning import months_of_ids
from history.events import PUBLISHED_EVENT_TYPES, EventType
from history.models import HistoryEvent, OutboxEntry, PurgeRecord

# Sent once a transaction that put events in the outbox has committed. The feed connects its
# hand-off to the publisher here (feed/apps.py): history knows that the outbox is read, not by
# whom, so it stays below everything that reads it (docs/architecture.md, the contracts).
outbox_committed = Signal()


@dataclass(frozen=True)
class NewEvent:
    registration_id: int
    event_type: EventType
    actor: str
    channel: str
    data: dict[str, Any] = field(default_factory=dict)


def event_hash(
    *,
    registration_id: int,
    seq: int,
    event_type: str,
    occurred_at: datetime,
    actor: str,
    channel: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of the event and its predecessor's hash."""
    canonical = json.dumps(
        {
            "registration": registration_id,
            "seq": seq,
            "type": event_type,
            "at": occurred_at.astimezone(UTC).isoformat(),
            "actor": actor,
            "channel": channel,
            "data": data,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _chain_heads(registration_ids: set[int]) -> dict[int, tuple[int, str]]:
    """The last (seq, hash) of each registration's chain, in one query."""
    last_seq = (
        HistoryEvent.objects.filter(
            registration_id=OuterRef("registration_id"), registration_date=OuterRef("registration_date")
        )
        .order_by("-seq")
        .values("seq")[:1]
    )
    heads = HistoryEvent.objects.filter(
        months_of_ids(registration_ids),
        registration_id__in=registration_ids,
        seq=Subquery(last_seq, output_field=models.IntegerField()),
    ).values_list("registration_id", "seq", "hash")
    return {registration_id: (seq, digest) for registration_id, seq, digest in heads}


def _registration_dates(registration_ids: set[int]) -> dict[int, date]:
    """Each registration's date, which its events carry (the partition key on PostgreSQL,
    docs/adr/0018), in one query that reads only the months the ids name."""
    registrations = HistoryEvent._meta.get_field("registration").related_model._default_manager
    found = registrations.filter(months_of_ids(registration_ids), id__in=registration_ids)
    dates: dict[int, date] = dict(found.values_list("id", "registration_date"))
    if missing := registration_ids - dates.keys():
        # What the foreign key said before the tables were partitioned: no event without its registration.
        raise IntegrityError(f"history events for registrations that do not exist: {sorted(missing)}")
    return dates


def history_record_many(
    events: Sequence[NewEvent], *, occurred_at: datetime | None = None, new_chains: bool = False
) -> list[HistoryEvent]:
    """Append events, chaining each to its registration's previous event.

    Two queries whatever the number of events (one with `new_chains=True`, for registrations
    created in the same transaction, which have no events yet), and one more when some of
    them are published: their outbox entries. Must run inside the transaction of the change
    the events record; the registrations' rows must be locked by the caller when several
    writers may append to the same chains concurrently (the unique (registration, seq)
    constraint turns a lost race into an error, never a fork).
    """
    if not events:
        return []
    when = occurred_at or timezone.now()
    heads = {} if new_chains else _chain_heads({event.registration_id for event in events})
    dates = _registration_dates({event.registration_id for event in events})
    rows = []
    for event in events:
        seq, prev_hash = heads.get(event.registration_id, (0, ""))
        seq += 1
        digest = event_hash(
            registration_id=event.registration_id,
            seq=seq,
            event_type=str(event.event_type),
            occurred_at=when,
            actor=event.actor,
            channel=event.channel,
            data=event.data,
            prev_hash=prev_hash,
        )
        heads[event.registration_id] = (seq, digest)
        rows.append(
            HistoryEvent(
                registration_id=event.registration_id,
                registration_date=dates[event.registration_id],
                seq=seq,
                event_type=event.event_type,
                occurred_at=when,
                actor=event.actor,
                channel=event.channel,
                data=event.data,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
    written = HistoryEvent.objects.bulk_create(rows)
    _put_in_outbox(written)
    return written


def _put_in_outbox(events: Sequence[HistoryEvent]) -> None:
    """The published events' outbox entries, in the events' transaction; their publication
    is announced once it commits (a lost announcement is made good by the feed's sweep)."""
    entries = [OutboxEntry(event=event) for event in events if event.event_type in PUBLISHED_EVENT_TYPES]
    if entries:
        OutboxEntry.objects.bulk_create(entries)
        transaction.on_commit(announce_outbox, robust=True)


def announce_outbox() -> None:
    """Tell the outbox's readers that committed entries wait (run after commit)."""
    outbox_committed.send(sender=OutboxEntry)


def outbox_remove(*, entry_ids: Sequence[int]) -> int:
    """Delete published outbox entries; must run in the transaction that published them."""
    deleted, _ = OutboxEntry.objects.filter(id__in=entry_ids).delete()
    return deleted


def history_purge(*, registration_ids: Sequence[int]) -> int:
    """Delete the whole history of these registrations; returns how many events left.

    The retention purge's half in the history app, and the only code that deletes events.
    It must run inside the purge's transaction (`registrations.services.retention`). On PostgreSQL
    the append-only trigger lets a DELETE through only while the transaction-local setting
    `presence.purge` is 'on', which is set here just before the DELETE and reset just after.
    """
    if not registration_ids:
        return 0
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history_purge must run inside the purge's transaction")
    # Entries not yet published leave with their events (the raw DELETE below cascades nothing).
    OutboxEntry.objects.filter(event__registration_id__in=registration_ids).delete()
    table = HistoryEvent._meta.db_table
    placeholders = ", ".join(["%s"] * len(registration_ids))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('presence.purge', 'on', true)")
        cursor.execute(
            f"DELETE FROM {table} WHERE registration_id IN ({placeholders})",  # noqa: S608 - placeholders only
            list(registration_ids),
        )
        deleted = int(cursor.rowcount)
        if connection.vendor == "postgresql":
            cursor.execute("SELECT set_config('presence.purge', 'off', true)")
    return deleted


def history_drop_month(*, partition: str | None, first: date, after: date, kept_registration_ids: Sequence[int]) -> int:
    """The retention purge's whole-month drop, in the history (PostgreSQL, partitioned tables);
    returns how many events left.

    `partition` is the month's history partition, already detached by the purge (None when the
    month had none). The events of the kept registrations (legal hold) go back into the history
    unchanged (ids, hashes: their chains still verify), into its DEFAULT partition as their
    month is gone; the outbox entries of the others leave; the partition is dropped. Events of
    the month that were in the DEFAULT partition leave too, but those of kept registrations.
    Must run inside the purge's transaction, like `history_purge`.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("history_drop_month must run inside the purge's transaction")
    kept = list(kept_registration_ids)
    table = HistoryEvent._meta.db_table
    deleted = 0
    with connection.cursor() as cursor:
        if partition is not None:
            cursor.execute(f'SELECT count(*) FROM "{partition}"')  # noqa: S608 - a partition's name from the catalogue
            total = int(cursor.fetchone()[0])
            cursor.execute(
                f'INSERT INTO "{table}" SELECT * FROM "{partition}" WHERE registration_id = ANY(%s)',  # noqa: S608
                [kept],
            )
            deleted = total - int(cursor.rowcount)
            leaving = RawSQL(f'SELECT id FROM "{partition}" WHERE NOT registration_id = ANY(%s)', [kept])  # noqa: S608, S611
            OutboxEntry.objects.filter(event_id__in=leaving).delete()
            cursor.execute(f'DROP TABLE "{partition}"')
        strays = HistoryEvent.objects.filter(registration_date__gte=first, registration_date__lt=after).exclude(
            registration_id__in=kept
        )
        deleted += history_purge(registration_ids=list(strays.values_list("registration_id", flat=True).distinct()))
    return deleted


def purge_record_create(
    *, actor: str, cutoff: date, registrations_deleted: int, events_deleted: int, held: int
) -> PurgeRecord:
    """Append one run of the retention purge to the purge log (append-only)."""
    return PurgeRecord.objects.create(
        performed_at=timezone.now(),
        actor=actor,
        cutoff=cutoff,
        registrations_deleted=registrations_deleted,
        events_deleted=events_deleted,
        held=held,
    )
