"""A registration's validity and public status, defined once for every reader.

The stored `Status` (SOAP's four contract statuses) mixes two questions that REST answers
apart, in its own words (spec §6):

* **validity**: has the validation run, and did it find anything? `pending` until the
  registration is validated, then `valid` (no remark) or `invalid` (one or more remarks).
  Cancelling keeps it: a registration validated with remarks and then cancelled is still
  `invalid`, and one cancelled before validation stays `pending`.
* **status**: is the registration still what it says? `registered`; `edited` once an
  operator's correction (registrations/corrections.py) supersedes it; `cancelled` once
  cancelled. Cancelled wins over edited: a superseded registration may still be cancelled,
  and then it is cancelled.

Each comes as a function for one registration and as a filter for searches, so a search and
an answer can never disagree on what a word means.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeAlias

from django.db.models import Exists, OuterRef, Q

from registrations.domain.rows import RegistrationRow
from registrations.domain.vocabulary import Status
from registrations.models import Registration

# A registration as stored, or as the set-wise write path has just written it (no model
# instance): what the status and validity of a registration are read from.
StoredRegistration: TypeAlias = Registration | RegistrationRow


class Validity(StrEnum):
    PENDING = "pending"
    VALID = "valid"
    INVALID = "invalid"


class PresenceStatus(StrEnum):
    """REST's status codes (spec §6); SOAP keeps the stored `Status` and its labels."""

    REGISTERED = "registered"
    EDITED = "edited"
    CANCELLED = "cancelled"


def validity_of(registration: StoredRegistration) -> Validity:
    if registration.validated_at is None:
        return Validity.PENDING
    return Validity.VALID if registration.remark_mask == 0 else Validity.INVALID


_VALIDITY_CONDITIONS = {
    Validity.PENDING: Q(validated_at__isnull=True),
    Validity.VALID: Q(validated_at__isnull=False, remark_mask=0),
    Validity.INVALID: Q(validated_at__isnull=False) & ~Q(remark_mask=0),
}


def validity_filter(wanted: Iterable[Validity]) -> Q:
    """The registrations whose validity is any of `wanted` (none wanted: none match)."""
    return _any_of(_VALIDITY_CONDITIONS[validity] for validity in set(wanted))


def validity_after(status: Status) -> Validity | None:
    """The validity a stored status records, when it records one: what a validation found.
    REGISTERED and CANCELLED say nothing about it (None)."""
    return {Status.VALIDATED: Validity.VALID, Status.FAILED: Validity.INVALID}.get(status)


@dataclass(frozen=True)
class StatusAt:
    """A public status and the moment the registration took it."""

    code: PresenceStatus
    date: datetime


def presence_status_of(registration: StoredRegistration, *, corrected_at: datetime | None) -> StatusAt:
    """The public status of one registration. `corrected_at`: when the first correction
    superseding it was recorded, None when none was (`selectors.presence_statuses` reads it)."""
    if registration.status == Status.CANCELLED:
        return StatusAt(PresenceStatus.CANCELLED, registration.cancelled_at or registration.created_at)
    if corrected_at is not None:
        return StatusAt(PresenceStatus.EDITED, corrected_at)
    return StatusAt(PresenceStatus.REGISTERED, registration.created_at)


def status_after(previous: PresenceStatus | None, *, stored: Status | None, corrected: bool) -> PresenceStatus:
    """The public status after one fact of the history (the timeline's rule, the same as
    `presence_status_of`): a cancellation makes it cancelled, a correction edited, and a
    validation leaves an edited registration edited."""
    if stored == Status.CANCELLED or previous == PresenceStatus.CANCELLED:
        return PresenceStatus.CANCELLED
    if corrected or previous == PresenceStatus.EDITED:
        return PresenceStatus.EDITED
    return PresenceStatus.REGISTERED


def _superseded() -> Exists:
    # A correction points to the registration it corrects (`corrects_id`, indexed); the
    # original row itself is never touched (corrections.py), so this is how it is known.
    return Exists(Registration.objects.filter(corrects_id=OuterRef("pk")))


def presence_status_filter(wanted: Iterable[PresenceStatus]) -> Q:
    """The registrations whose public status is any of `wanted` (none wanted: none match)."""
    cancelled, superseded = Q(status=Status.CANCELLED), Q(_superseded())
    conditions = {
        PresenceStatus.REGISTERED: ~cancelled & ~superseded,
        PresenceStatus.EDITED: ~cancelled & superseded,
        PresenceStatus.CANCELLED: cancelled,
    }
    return _any_of(conditions[status] for status in set(wanted))


def _any_of(conditions: Iterable[Q]) -> Q:
    combined = Q(pk__in=[])
    for condition in conditions:
        combined |= condition
    return combined
