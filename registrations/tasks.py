"""Celery adapter: the tasks only load ids and call services.

The outbox guarantee: a registration is committed in SUCCESSFULLY REGISTERED before its task
is published. If the publish fails (Redis down) or the task is lost (Redis restarted empty,
worker killed), the periodic sweeper finds the registration still waiting and queues it again.
Validation itself is idempotent, so a registration queued twice is validated once. The
external geocoder's hand-off is swept the same way: coordinates still without an address
after a delay are handed to it again.
"""

import logging
from collections.abc import Sequence
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerOperationalError

from registrations.domain.limits import MAX_BATCH
from registrations.domain.vocabulary import Status
from registrations.models import Registration
from registrations.registers.geocoding import geocode_externally, registrations_awaiting_address, resolve_places
from registrations.services.partitions import partitions_maintain
from registrations.services.retention import registrations_purge_expired
from registrations.validation.affected import recent_failures
from registrations.validation.run import registration_revalidate, registration_validate_waiting

logger = logging.getLogger(__name__)

MAX_BATCHES_PER_SWEEP = 500
# What `.delay()` raises when the broker fails, measured with this configuration (the fast
# publish retry policy of config/settings): connection refused, a Redis stopped under a pooled
# connection, one that accepts and never answers, and one out of memory all arrive as kombu's
# OperationalError, redis-py's own error as its cause. Anything else (a TypeError from a
# task's signature) is a bug, and propagates.
BROKER_ERRORS: tuple[type[Exception], ...] = (BrokerOperationalError,)


@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
)
def validate_registrations(registration_ids: list[int]) -> int:
    validated = registration_validate_waiting(registration_ids=registration_ids)
    _resolve_places(registration_ids, validated)
    # With the request id of the call that registered them (docs/operations.md): one grep
    # of a client's ticket, or of a registration id, finds both ends.
    logger.info("validated %d of %d registrations %s", len(validated), len(registration_ids), registration_ids)
    return len(validated)


def _resolve_places(registration_ids: list[int], validated: list[Registration]) -> None:
    """After validation, off the request path: the address of each event's coordinates.

    Decided from the rows validation has just loaded, so a batch without coordinates (SOAP
    presences never carry any) costs no query. Only the ids validation left alone (validated
    by an earlier delivery of this task, or cancelled) are looked up, so a task redelivered
    after a crash between the two steps still places them.
    """
    unplaced = [r for r in validated if r.latitude is not None and r.place_address is None]
    left_alone = set(registration_ids) - {r.pk for r in validated}
    if left_alone:
        unplaced += Registration.objects.filter(
            pk__in=left_alone, latitude__isnull=False, place_address__isnull=True
        ).only("id", "latitude", "longitude", "place_address")
    unresolved = resolve_places(unplaced)
    if settings.GEOCODER_URL:
        for registration_id in unresolved:
            if not enqueue_geocoding(registration_id):
                break  # the broker is down: the geocoding sweep hands the rest over later


def enqueue_geocoding(registration_id: int) -> bool:
    """Hand one registration to the external geocoder; False when the broker could not be
    reached (the address stays empty until the geocoding sweep hands it over again)."""
    try:
        geocode_registration.delay(registration_id)
    except BROKER_ERRORS:
        logger.warning("geocoding hand-off failed for registration %d", registration_id, exc_info=True)
        return False
    return True


@shared_task(acks_late=True, autoretry_for=(OSError, ValueError), retry_backoff=True, max_retries=5)
def geocode_registration(registration_id: int) -> bool:
    """Ask the external geocoder; a timeout or error is retried later, never felt by a client."""
    return geocode_externally(registration_id)


@shared_task
def requeue_unplaced_registrations() -> int:
    """The geocoding sweep: registrations whose coordinates still have no address
    `GEOCODING_REQUEUE_AFTER_SECONDS` after their creation (a lost hand-off, a geocoder that
    stayed down through every retry) are handed to the external geocoder again, at most
    `MAX_BATCH` a sweep, oldest first. Only with an external geocoder: without one, the
    register's answer is final. Asking twice stores one address (`geocode_externally` only
    fills an empty one). Returns how many were handed over.
    """
    if not settings.GEOCODER_URL:
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.GEOCODING_REQUEUE_AFTER_SECONDS)
    queued = 0
    for registration_id in registrations_awaiting_address(created_before=cutoff, limit=MAX_BATCH):
        if not enqueue_geocoding(registration_id):
            break  # the broker is down: the next sweep tries again
        queued += 1
    if queued:
        logger.info("geocoding sweep handed %d registrations to the geocoder again", queued)
    return queued


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
    """Queue one revalidation task; a broker failure is logged, not raised (the periodic sweep
    covers a lost one). Any other error is a bug and propagates."""
    try:
        revalidate_registrations.delay(list(registration_ids))
    except BROKER_ERRORS:
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
    """Queue one validation task. A broker failure is logged, not raised: False, and the
    sweeper will queue the registrations again. Any other error is a bug and propagates."""
    try:
        validate_registrations.delay(list(registration_ids))
    except BROKER_ERRORS:
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


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def maintain_partitions() -> int | None:
    """pg_partman's maintenance (registrations.services.partitions): the months ahead exist before
    their first registration; returns how many months ahead are ready (None on SQLite)."""
    health = partitions_maintain()
    return health.months_ahead if health else None
