"""Celery adapter of the feed: publishing after commit, delivery runs, the periodic sweep.

The outbox guarantee, as for validation (docs/adr/0005): an event is committed in the
outbox with the history event that causes it, before anything is published. The hand-off
after commit only makes publication prompt; if it is lost (Redis down, restarted empty, a
worker killed), `sweep_feed` publishes what the outbox still holds and hands every due
delivery to the workers again. Publishing and delivering are both safe to repeat.
"""

import logging
from typing import Any
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from kombu.exceptions import OperationalError

from feed.selectors import subscriptions_due
from feed.services.deliveries import LEASE_SECONDS, subscription_deliver
from feed.services.publishing import feed_publish

logger = logging.getLogger(__name__)


def hand_off_publication(**_: Any) -> bool:
    """Queue a publication; never raises for the broker (the sweep makes up for it).
    Connected to history's `outbox_committed` (feed/apps.py)."""
    try:
        publish_feed.delay()
    except OperationalError:
        logger.warning("feed publication hand-off failed; the sweep will publish", exc_info=True)
        return False
    return True


def hand_off_delivery(subscription_id: UUID) -> bool:
    """Queue a delivery run for a subscription; never raises for the broker."""
    try:
        deliver_webhooks.delay(str(subscription_id))
    except OperationalError:
        logger.warning("webhook delivery hand-off failed; the sweep will deliver", exc_info=True)
        return False
    return True


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, retry_backoff_max=60, max_retries=10)
def publish_feed() -> int:
    """Publish the outbox; hand the new deliveries to the workers (not on the embedded default,
    where `run_sweeps` delivers: a receiver must not hold up a client's call)."""
    publication = feed_publish()
    if settings.WEBHOOK_DELIVER_AFTER_PUBLISHING:
        for subscription_id in sorted(publication.subscriptions):
            hand_off_delivery(subscription_id)
    return publication.events


# A run stops starting attempts after RUN_SECONDS; the limits end a run that hangs anyway
# before its lease expires, so two runs never overlap for one subscription.
@shared_task(
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=10,
    soft_time_limit=LEASE_SECONDS - 30,
    time_limit=LEASE_SECONDS - 20,
)
def deliver_webhooks(subscription_id: str) -> int:
    run = subscription_deliver(subscription_id=UUID(subscription_id))
    if run.progressed or run.busy:
        logger.info(
            "delivery run of subscription %s: %d delivered, %d failed, %d withdrawn%s%s",
            subscription_id,
            run.delivered,
            run.failed,
            run.withdrawn,
            " (busy)" if run.busy else "",
            "; more due" if run.more_due else "",
        )
    if run.more_due:
        hand_off_delivery(UUID(subscription_id))
    return run.delivered


@shared_task
def sweep_feed() -> int:
    """The periodic sweep: publish what a lost hand-off left in the outbox, and hand off the
    delivery runs of every subscription with a due delivery (first attempts and retries).
    Returns how many runs were handed off."""
    feed_publish()
    handed = 0
    for subscription_id in subscriptions_due():
        if not hand_off_delivery(subscription_id):
            break  # the broker is down: the next sweep tries again
        handed += 1
    return handed
