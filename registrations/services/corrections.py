"""Operator corrections of cleaning events (spec §6: "corrections go through an operator").

A correction never edits the event it corrects. It is a new cleaning registration (an IN or
an OUT at the right time, for the same person, employer and place of work), created through
the admin channel and validated like any other, with `corrects_id` pointing to the original.
The original stays as it was and gets a `registration.corrected` event that points to the
correction, so both histories tell the story. The typical case is an IN whose OUT was
forgotten: the correction is the missing OUT.

Only events of the last `CORRECTION_DAYS` days (Europe/Brussels) may be corrected, and the
corrected time must fall in the same window and not in the future.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from config.partitioning import months_of_ids
from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations import tasks
from registrations.domain.authorisation import Caller, CallerRole
from registrations.domain.vocabulary import Channel, CleaningEventType, Sector, Status
from registrations.models import Registration

CORRECTION_DAYS = 30


class CorrectionError(ValueError):
    """The correction is refused; the message says why (shown to the operator)."""


@dataclass(frozen=True)
class CorrectionInput:
    """What the operator enters: the original's id, the event it should have been, why."""

    registration_id: int
    event_type: str
    event_at: datetime
    note: str


def _checked(original: Registration | None, correction: CorrectionInput, now: datetime) -> Registration:
    """The registration to correct; raises CorrectionError unless the correction may be recorded."""
    if original is None or original.sector != Sector.CLEANING:
        raise CorrectionError("only cleaning events can be corrected")
    if original.status == Status.CANCELLED:
        raise CorrectionError("a cancelled event cannot be corrected")
    oldest = timezone.localdate(now) - timedelta(days=CORRECTION_DAYS)
    if original.registration_date < oldest:
        raise CorrectionError(f"only events of the last {CORRECTION_DAYS} days can be corrected")
    if correction.event_type not in CleaningEventType.values:
        raise CorrectionError("the corrected event is IN or OUT")
    if timezone.is_naive(correction.event_at) or correction.event_at > now:
        raise CorrectionError("the corrected time must be a past moment with its time zone")
    if timezone.localtime(correction.event_at).date() < oldest:
        raise CorrectionError(f"the corrected time must be within the last {CORRECTION_DAYS} days")
    if not correction.note.strip():
        raise CorrectionError("say why the event is corrected")
    return original


def registration_correct_cleaning(*, correction: CorrectionInput, caller: Caller) -> Registration:
    """Record an operator's correction of a cleaning event; returns the new registration.

    Creates a SUCCESSFULLY REGISTERED cleaning registration (channel ADMIN, `corrects_id` =
    the original) with a `registration.created` event carrying `corrects` and the note, and
    appends `registration.corrected` (pointing to the correction) to the original's history,
    in one transaction. Validation is handed off after commit, as for any registration.

    Raises CorrectionError (not an operator, not a cleaning event, cancelled, outside the
    30-day window, bad time or type, no note).
    """
    if caller.role != CallerRole.OPERATOR:
        raise CorrectionError("only an operator corrects events")
    with transaction.atomic():
        found = (
            Registration.objects.select_for_update()
            .filter(months_of_ids([correction.registration_id]), id=correction.registration_id)
            .first()
        )
        now = timezone.now()
        original = _checked(found, correction, now)
        corrected = _new_event(original, correction, caller, now)
        _record(original, corrected, correction.note.strip(), caller, now)
    return corrected


def _new_event(original: Registration, correction: CorrectionInput, caller: Caller, now: datetime) -> Registration:
    submitted = {
        "correction": {"of": original.pk, "type": correction.event_type, "at": correction.event_at.isoformat()}
    }
    return Registration.objects.create(
        sector=Sector.CLEANING,
        channel=Channel.ADMIN,
        sender=None,
        sender_role=caller.role.value,
        created_at=now,
        registration_date=timezone.localtime(correction.event_at).date(),
        niss=original.niss,
        enterprise_number=original.enterprise_number,
        foreign_vat_number=original.foreign_vat_number,
        workplace_id=original.workplace_id,
        client_reference=original.client_reference,
        submitted=submitted,
        event_type=correction.event_type,
        event_at=correction.event_at,
        activity=original.activity,
        latitude=original.latitude,
        longitude=original.longitude,
        # Unique per sender among non-cancelled rows; the operator is no sender (NULL).
        dedup_key=f"X|{original.pk}|{now.isoformat()}",
        corrects_id=original.pk,
    )


def _record(original: Registration, corrected: Registration, note: str, caller: Caller, now: datetime) -> None:
    history_record_many(
        [
            NewEvent(
                registration_id=corrected.pk,
                event_type=EventType.CREATED,
                actor=caller.actor,
                channel=Channel.ADMIN,
                data={
                    "status": Status.REGISTERED.label,
                    "sector": Sector.CLEANING.value,
                    "event": corrected.event_type,
                    "corrects": original.pk,
                    "note": note,
                },
            ),
            NewEvent(
                registration_id=original.pk,
                event_type=EventType.CORRECTED,
                actor=caller.actor,
                channel=Channel.ADMIN,
                data={"correction": corrected.pk, "note": note},
            ),
        ],
        occurred_at=now,
    )
    registration_id = corrected.pk
    transaction.on_commit(lambda: _hand_off_validation(registration_id), robust=True)


def _hand_off_validation(registration_id: int) -> None:
    tasks.enqueue_validation([registration_id])
