"""Revalidation when reference data change, and the periodic sweep over recent failures.

Both only *queue* work: the registrations are revalidated by Celery tasks after the change
commits, in batches of 200, and `registration_revalidate` writes an event only for a
registration whose status or remark set actually changed.

Scope: registrations dated within the last REVALIDATION_WINDOW_DAYS (35 by default). Older
registrations keep the verdict they had at the time (docs/adr/0004-revalidation-window.md).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registrations.domain.vocabulary import Status
from registrations.models import Registration

BATCH = 200


@dataclass
class ReferenceKeys:
    """What a reference change touches: the identifiers of the registrations it can affect."""

    nisses: set[str] = field(default_factory=set)
    enterprises: set[str] = field(default_factory=set)
    limosa_ids: set[str] = field(default_factory=set)
    workplaces: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.nisses or self.enterprises or self.limosa_ids or self.workplaces)

    def update(self, other: "ReferenceKeys") -> None:
        self.nisses |= other.nisses
        self.enterprises |= other.enterprises
        self.limosa_ids |= other.limosa_ids
        self.workplaces |= other.workplaces


def _window_start() -> date:
    return timezone.localdate() - timedelta(days=settings.REVALIDATION_WINDOW_DAYS)


def registrations_affected(keys: ReferenceKeys) -> list[int]:
    """Ids of the validated or failed registrations in the window that `keys` can affect."""
    if not keys:
        return []
    touches = (
        Q(niss__in=keys.nisses)
        | Q(enterprise_number__in=keys.enterprises)
        | Q(limosa_id__in=keys.limosa_ids)
        | Q(workplace_id__in=keys.workplaces)
    )
    return list(
        Registration.objects.filter(
            touches,
            registration_date__gte=_window_start(),
            status__in=[Status.VALIDATED, Status.FAILED],
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def _queue_revalidation(registration_ids: list[int]) -> None:
    from registrations.tasks import enqueue_revalidation

    for start in range(0, len(registration_ids), BATCH):
        enqueue_revalidation(registration_ids[start : start + BATCH])


def reference_changed(keys: ReferenceKeys) -> None:
    """Queue the revalidation of what a reference change can affect, after it commits."""
    if keys:
        transaction.on_commit(lambda: _queue_revalidation(registrations_affected(keys)), robust=True)


def recent_failures() -> Iterable[list[int]]:
    """FAILED registrations of the window, in batches of ids (for the periodic sweep)."""
    ids = list(
        Registration.objects.filter(status=Status.FAILED, registration_date__gte=_window_start())
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def duplicates_changed(cancelled: Iterable[Registration]) -> None:
    """A cancelled registration no longer makes later ones duplicates (remark 14): queue the
    revalidation of the FAILED registrations of the same persons, employers and days (a
    duplicate is always of the same employer, so no other employer's work is queued)."""
    people = Q()
    for registration in cancelled:
        person = Q(niss=registration.niss) if registration.niss else Q(limosa_id=registration.limosa_id)
        employer = Q(
            enterprise_number=registration.enterprise_number, foreign_vat_number=registration.foreign_vat_number
        )
        people |= person & employer & Q(registration_date=registration.registration_date)
    if not people:
        return
    candidates = Registration.objects.filter(people, status=Status.FAILED).exclude(remark_mask=0)
    transaction.on_commit(
        lambda: _queue_revalidation(list(candidates.order_by("id").values_list("id", flat=True))), robust=True
    )
