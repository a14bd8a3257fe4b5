"""Celery adapter: the tasks only load ids and call services.

The outbox guarantee: a registration is committed in SUCCESSFULLY REGISTERED before its task
is published. If the publish fails (Redis down) or the task is lost (Redis restarted empty,
worker killed), the periodic sweeper finds the registration still waiting and queues it again.
Validation itself is idempotent, so a registration queued twice is validated once.
"""

import logging
from collections.abc import Sequence
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from registrations.domain.limits import MAX_BATCH
from registrations.domain.vocabulary import Status
from registrations.models import Registration
from registrations.registers.geocoding import geocode_externally, resolve_places
from registrations.services.retention import registrations_purge_expired
from registrations.validation.affected import recent_failures
from registrations.validation.run import registration_revalidate, registration_validate_batch

logger = logging.getLogger(__name__)

MAX_BATCHES_PER_SWEEP = 500


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def validate_registrations(registration_ids: list[int]) -> int:
    validated = registration_validate_batch(registration_ids=registration_ids)
    _resolve_places(registration_ids)
    # With the request id of the call that registered them (docs/operations.md): one grep
    # of a client's ticket, or of a registration id, finds both ends.
    logger.info("validated %d of %d registrations %s", validated, len(registration_ids), registration_ids)
    return validated


def _resolve_places(registration_ids: list[int]) -> None:
    """After validation, off the request path: the address of each event's coordinates."""
    with_coordinates = Registration.objects.filter(
        pk__in=registration_ids, latitude__isnull=False, place_address__isnull=True
    )
    unresolved = resolve_places(with_coordinates.only("id", "latitude", "longitude", "place_address"))
    if settings.GEOCODER_URL:
        for registration_id in unresolved:
            try:
                geocode_registration.delay(registration_id)
            except Exception:  # the broker is down: the address stays empty, nothing else suffers
                logger.warning("geocoding hand-off failed for registration %d", registration_id, exc_info=True)


@shared_task(acks_late=True, autoretry_for=(OSError, ValueError), retry_backoff=True, max_retries=5)
def geocode_registration(registration_id: int) -> bool:
    """Ask the external geocoder; a timeout or error is retried later, never felt by a client."""
    return geocode_externally(registration_id)


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def revalidate_registrations(registration_ids: list[int]) -> int:
    return registration_revalidate(registration_ids=registration_ids)


def enqueue_revalidation(registration_ids: Sequence[int]) -> bool:
    """Queue one revalidation task; never raises (the periodic sweep covers a lost one)."""
    try:
        revalidate_registrations.delay(list(registration_ids))
    except Exception:  # any broker failure is handled the same way
        logger.warning("revalidation hand-off failed for %d registrations", len(registration_ids), exc_info=True)
        return False
    return True


@shared_task
def revalidate_recent_failures() -> int:
    """The periodic sweep: FAILED registrations of the revalidation window are revalidated, so a
    reference fact that arrives late (a Dimona, a corrected declaration) clears them."""
    queued = 0
    for chunk in recent_failures():
        if not enqueue_revalidation(chunk):
            break
        queued += len(chunk)
    return queued


def enqueue_validation(registration_ids: Sequence[int]) -> bool:
    """Queue one validation task; never raises. False when the broker could not be reached,
    in which case the sweeper will queue the registrations again."""
    try:
        validate_registrations.delay(list(registration_ids))
    except Exception:
        logger.warning(
            "validation hand-off failed for %d registrations; the sweeper will queue them again",
            len(registration_ids),
            exc_info=True,
        )
        return False
    return True


@shared_task
def requeue_waiting_validations() -> int:
    """Queue again the registrations waiting for validation longer than the requeue delay.

    Returns how many registrations were queued.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.VALIDATION_REQUEUE_AFTER_SECONDS)
    waiting = list(
        Registration.objects.filter(status=Status.REGISTERED, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("id", flat=True)[: MAX_BATCH * MAX_BATCHES_PER_SWEEP]
    )
    queued = 0
    for start in range(0, len(waiting), MAX_BATCH):
        chunk = waiting[start : start + MAX_BATCH]
        if not enqueue_validation(chunk):
            break  # the broker is down: the next sweep tries again
        queued += len(chunk)
    if waiting:
        logger.info("sweeper queued %d of %d waiting registrations", queued, len(waiting))
    return queued


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def purge_expired_registrations() -> int:
    """The daily retention purge (registrations.services.retention); returns how many registrations left."""
    return registrations_purge_expired().registrations
