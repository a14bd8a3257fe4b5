"""Revalidation queued when reference data change or a cancellation ends a duplicate.

Both only *queue* work: the registrations are revalidated by Celery tasks after the change
commits, in batches of 200, and `registration_revalidate` writes an event only for a
registration whose status or remark set actually changed. Which registrations a change can
affect, and the periodic sweep's recent failures, are read by `registrations.validation.affected`.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from registrations import tasks
from registrations.domain.limits import MAX_BATCH
from registrations.domain.reference_changes import ReferenceKeys
from registrations.domain.vocabulary import Status
from registrations.models import Registration
from registrations.validation.affected import registrations_affected


def _queue_revalidation(registration_ids: list[int]) -> None:
    for start in range(0, len(registration_ids), MAX_BATCH):
        tasks.enqueue_revalidation(registration_ids[start : start + MAX_BATCH])


def reference_changed(keys: ReferenceKeys) -> None:
    """Queue the revalidation of what a reference change can affect, after it commits."""
    if keys:
        transaction.on_commit(lambda: _queue_revalidation(registrations_affected(keys)), robust=True)


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
