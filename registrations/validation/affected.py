"""Which registrations validation must look at again: those a reference change can affect,
and the recent failures the periodic sweep retries (reads only; the queueing is
`registrations.services.revalidation`).

Scope: registrations dated within the last REVALIDATION_WINDOW_DAYS (35 by default). Older
registrations keep the verdict they had at the time (docs/adr/0004-revalidation-window.md).
"""

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from registrations.domain.limits import MAX_BATCH
from registrations.domain.reference_changes import ReferenceKeys
from registrations.domain.vocabulary import Status
from registrations.models import Registration


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


def recent_failures() -> Iterable[list[int]]:
    """FAILED registrations of the window, in batches of ids (for the periodic sweep)."""
    ids = list(
        Registration.objects.filter(status=Status.FAILED, registration_date__gte=_window_start())
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), MAX_BATCH):
        yield ids[start : start + MAX_BATCH]
