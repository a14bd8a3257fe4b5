"""Retention (spec §1: data are kept 7 years): the purge of expired registrations.

A registration dated more than `RETENTION_YEARS` years ago (Europe/Brussels) leaves the
database together with its whole history, unless it is under legal hold, itself or through
the Declaration of Works of its workplace. This is the only way rows leave the history
(docs/adr/0010-retention-purge.md); each run that deletes something is written to the
append-only purge log (`history.PurgeRecord`). On PostgreSQL whole months are dropped first
(docs/adr/0018-partitioning-and-keys.md).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import connection, transaction
from django.db.models import CASCADE, ForeignObjectRel, QuerySet
from django.db.models.expressions import RawSQL

from config.partitioning import detach, is_partitioned, monthly_partitions, months_of_ids
from history.events import EventType
from history.models import HistoryEvent
from history.services import NewEvent, history_drop_month, history_purge, history_record_many, purge_record_create
from registrations.domain.authorisation import Caller
from registrations.domain.retention import retention_cutoff
from registrations.domain.vocabulary import Channel
from registrations.models import DeclarationOfWorks, Registration

logger = logging.getLogger(__name__)

PURGE_BATCH = 1000
SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class PurgeReport:
    """What a purge did (or, in a dry run, would do)."""

    cutoff: date
    registrations: int
    events: int
    held: int
    dry_run: bool


def _expired(cutoff: date) -> QuerySet[Registration]:
    return Registration.objects.filter(registration_date__lt=cutoff)


_HELD_WORKPLACES_SQL = f"SELECT number FROM {DeclarationOfWorks._meta.db_table} WHERE legal_hold"  # noqa: S608


def _held_workplaces() -> QuerySet[DeclarationOfWorks, str]:
    return DeclarationOfWorks.objects.filter(legal_hold=True).values_list("number", flat=True)


def _purgeable(cutoff: date) -> QuerySet[Registration]:
    """Expired and not under legal hold, itself or through its workplace."""
    return _expired(cutoff).filter(legal_hold=False).exclude(workplace_id__in=_held_workplaces())


def registrations_purge_expired(*, actor: str = SYSTEM_ACTOR, dry_run: bool = False) -> PurgeReport:
    """Delete the expired registrations and their history: on PostgreSQL first each month that
    ends before the cutoff, whole (`_drop_expired_months`, docs/adr/0018), then what is left in
    batches of `PURGE_BATCH` (the cutoff's own month, rows in a DEFAULT partition, everything
    on SQLite).

    Each batch and each month is one transaction: the history first, then the registrations,
    so it leaves whole or not at all. A dry run only counts. A run that deleted something
    appends one `PurgeRecord` (counts of both ways, cutoff, actor); a dry run writes nothing.
    """
    cutoff = retention_cutoff()
    held = _expired(cutoff).count() - _purgeable(cutoff).count()
    if dry_run:
        return _dry_run(cutoff, held)
    registrations, events = _drop_expired_months(cutoff)
    while batch := _purge_batch(cutoff):
        events += batch[1]
        registrations += batch[0]
    if registrations:
        purge_record_create(
            actor=actor, cutoff=cutoff, registrations_deleted=registrations, events_deleted=events, held=held
        )
        logger.info("retention purge: %d registrations, %d events before %s", registrations, events, cutoff)
    return PurgeReport(cutoff, registrations, events, held, dry_run=False)


def _drop_expired_months(cutoff: date) -> tuple[int, int]:
    """PostgreSQL, partitioned tables: drop each month that ends before `cutoff`, whole, in both
    tables; returns (registrations, events) deleted. Elsewhere nothing (the batches do it all)."""
    table, history_table = Registration._meta.db_table, HistoryEvent._meta.db_table
    if not (is_partitioned(table) and is_partitioned(history_table)):
        return 0, 0
    history_months = {first: name for name, first, _ in monthly_partitions(history_table)}
    registrations = events = 0
    for partition, first, after in monthly_partitions(table):
        if after > cutoff:
            break
        month = _drop_month(partition, history_months.get(first), first, after)
        registrations, events = registrations + month[0], events + month[1]
        logger.info("retention purge: month %s dropped (%d registrations, %d events)", first, *month)
    return registrations, events


@transaction.atomic
def _drop_month(partition: str, history_partition: str | None, first: date, after: date) -> tuple[int, int]:
    """One month out of both tables, in one transaction: the partitions are detached (nobody
    reads or writes them from then on), the registrations under legal hold and their history
    go back into the tables (their DEFAULT partitions, where operators still find them), the
    rows of other apps that leave with a registration (the feed's) are deleted, and the
    partitions are dropped."""
    table = Registration._meta.db_table
    with connection.cursor() as cursor:
        # A partition with deferred checks still pending in this transaction cannot be dropped.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    detach(table, partition)
    if history_partition is not None:
        detach(HistoryEvent._meta.db_table, history_partition)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT id FROM "{partition}" WHERE legal_hold OR workplace_id IN ({_HELD_WORKPLACES_SQL})',  # noqa: S608
        )
        kept = [row[0] for row in cursor.fetchall()]
        cursor.execute(f'INSERT INTO "{table}" SELECT * FROM "{partition}" WHERE id = ANY(%s)', [kept])  # noqa: S608
        cursor.execute(f'SELECT count(*) FROM "{partition}"')  # noqa: S608 - a partition's name from the catalogue
        registrations = int(cursor.fetchone()[0]) - len(kept)
        _delete_dependants(RawSQL(f'SELECT id FROM "{partition}" WHERE NOT id = ANY(%s)', [kept]))  # noqa: S608, S611
        events = history_drop_month(partition=history_partition, first=first, after=after, kept_registration_ids=kept)
        cursor.execute(f'DROP TABLE "{partition}"')
    return registrations, events


def _delete_dependants(registration_ids: RawSQL) -> None:
    """What the ORM's cascade deletes with a registration (the feed's events and deliveries),
    for registrations that leave without the ORM (a dropped month)."""
    for relation in Registration._meta.get_fields(include_hidden=True):  # hidden: related_name="+"
        if isinstance(relation, ForeignObjectRel) and relation.on_delete is CASCADE:
            related = relation.related_model._base_manager
            related.filter(**{f"{relation.field.attname}__in": registration_ids}).delete()


@transaction.atomic
def _purge_batch(cutoff: date) -> tuple[int, int] | None:
    """Purge up to PURGE_BATCH registrations; (registrations, events), None when done.

    The rows are locked first: a writer appending to one of these chains (a consultation)
    waits, then finds the registration gone, rather than leaving an orphan event.
    """
    ids = list(_purgeable(cutoff).select_for_update().order_by("id").values_list("id", flat=True)[:PURGE_BATCH])
    if not ids:
        return None
    events = history_purge(registration_ids=ids)
    # Counted per model: rows of other apps that cascade with a registration (the feed's
    # events and deliveries) are not registrations.
    _, deleted = Registration.objects.filter(id__in=ids).delete()
    return deleted.get(Registration._meta.label, 0), events


def _dry_run(cutoff: date, held: int) -> PurgeReport:
    purgeable = _purgeable(cutoff)
    events = HistoryEvent.objects.filter(registration_id__in=purgeable.values("id")).count()
    return PurgeReport(cutoff, purgeable.count(), events, held, dry_run=True)


def registrations_set_legal_hold(*, registration_ids: Sequence[int], hold: bool, caller: Caller) -> int:
    """Place (or lift) a legal hold on registrations; returns how many changed.

    Each change writes a `registration.legal_hold` event `{"hold": true|false}` with the
    caller as actor and channel ADMIN. Rows already in the wanted state are left alone.
    """
    with transaction.atomic():
        changing = list(
            Registration.objects.select_for_update()
            .filter(months_of_ids(registration_ids), id__in=registration_ids)
            .exclude(legal_hold=hold)
            .values_list("id", flat=True)
        )
        Registration.objects.filter(id__in=changing).update(legal_hold=hold)
        history_record_many(
            [
                NewEvent(
                    registration_id=registration_id,
                    event_type=EventType.LEGAL_HOLD,
                    actor=caller.actor,
                    channel=Channel.ADMIN,
                    data={"hold": hold},
                )
                for registration_id in changing
            ]
        )
    return len(changing)


@transaction.atomic
def declaration_set_legal_hold(*, numbers: Sequence[str], hold: bool) -> int:
    """Place (or lift) a legal hold on workplaces: the purge keeps all their registrations."""
    return DeclarationOfWorks.objects.filter(number__in=numbers).exclude(legal_hold=hold).update(legal_hold=hold)
