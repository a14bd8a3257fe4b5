"""Append-only history (spec §3.2): one event per fact, hash-chained per registration."""

from typing import Any, NoReturn, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from history.events import EventType


class HistoryIsAppendOnlyError(Exception):
    """Raised on any attempt to change or delete a history event."""

    def __init__(self) -> None:
        super().__init__("history events are append-only: they cannot be changed or deleted")


_Row = TypeVar("_Row", bound=models.Model)


class AppendOnlyQuerySet(models.QuerySet[_Row]):
    """Refuses bulk updates and deletes (a database trigger refuses them below the ORM too)."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise HistoryIsAppendOnlyError

    def delete(self) -> NoReturn:
        raise HistoryIsAppendOnlyError


class AppendOnlyModel(models.Model):
    """A row that is inserted once and never changed or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise HistoryIsAppendOnlyError
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise HistoryIsAppendOnlyError


class HistoryEventQuerySet(AppendOnlyQuerySet["HistoryEvent"]):
    pass


class HistoryEvent(AppendOnlyModel):
    """A fact about a registration, written in the same transaction as the change.

    `hash` covers the event and `prev_hash` (the hash of the registration's previous event),
    so rewriting any event breaks the chain from there on (`history.selectors.history_verify`).
    A database trigger refuses UPDATE (and DELETE on PostgreSQL) below the ORM as well.
    """

    id = models.BigAutoField(primary_key=True)
    # No database constraint: a foreign key into a partitioned table must carry its partition
    # key; the services keep the integrity instead (docs/adr/0018-partitioning-and-keys.md).
    registration = models.ForeignKey(
        "registrations.Registration", on_delete=models.PROTECT, db_constraint=False, related_name="history_events"
    )
    # The registration's date, copied: the partition key on PostgreSQL, where an event lives in
    # the month of its registration and leaves with it (docs/adr/0018).
    registration_date = models.DateField(_("registration date"))
    seq = models.PositiveIntegerField(_("sequence"))
    event_type = models.CharField(_("event"), max_length=48, choices=EventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.CharField(_("actor"), max_length=80)
    channel = models.CharField(_("channel"), max_length=8)
    data = models.JSONField(_("data"), default=dict)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = HistoryEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        ordering = ["registration_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["registration", "seq"], name="history_unique_seq")]
        indexes = [models.Index(fields=["event_type", "occurred_at"], name="history_type_time")]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.seq} of registration {self.registration_id}"


class PurgeRecordQuerySet(AppendOnlyQuerySet["PurgeRecord"]):
    pass


class PurgeRecord(AppendOnlyModel):
    """One run of the retention purge (registrations/services/retention.py): what left, and why.

    The purged registrations' own history is gone with them, so this append-only log is the
    evidence that rows left through the purge and through nothing else (docs/adr/0009).
    """

    id = models.BigAutoField(primary_key=True)
    performed_at = models.DateTimeField(_("performed at"))
    actor = models.CharField(_("actor"), max_length=80)  # "system" (periodic task) or "operator:<username>"
    cutoff = models.DateField(_("registrations dated before"))
    registrations_deleted = models.PositiveBigIntegerField(_("registrations deleted"))
    events_deleted = models.PositiveBigIntegerField(_("history events deleted"))
    held = models.PositiveBigIntegerField(_("kept under legal hold"))

    objects = PurgeRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("retention purge")
        verbose_name_plural = _("retention purges")
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"purge of {self.performed_at:%Y-%m-%d %H:%M} (before {self.cutoff})"


class OutboxEntry(models.Model):
    """A history event that the parties who may see its registration are to be told about,
    waiting to be published to the feed (the outbox, docs/adr/0017).

    `history_record_many` writes one per event of `PUBLISHED_EVENT_TYPES`, in the transaction of
    the event itself: no published event without its entry, no entry without its event. The
    feed's publisher reads the committed entries in id order, gives each event its place in
    the feed and deletes the entries, in one transaction.
    """

    id = models.BigAutoField(primary_key=True)
    # No database constraint: history events are partitioned (docs/adr/0018); an entry leaves
    # with its event (history_purge, the retention purge's month drop).
    event = models.OneToOneField(HistoryEvent, on_delete=models.CASCADE, db_constraint=False, related_name="+")

    class Meta:
        verbose_name = _("event waiting to be published")
        verbose_name_plural = _("events waiting to be published")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"outbox entry {self.id} (event {self.event_id})"
