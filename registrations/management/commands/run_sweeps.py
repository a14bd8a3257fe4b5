import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from feed.tasks import sweep_feed
from registrations.tasks import (
    purge_expired_registrations,
    requeue_unplaced_registrations,
    requeue_waiting_validations,
    revalidate_recent_failures,
)
from requestlog.tasks import purge_expired_request_logs

PURGE_EVERY_SECONDS = 86400.0  # as beat's purge-expired-registrations and purge-expired-request-logs


class Command(BaseCommand):
    help = (
        "Run the periodic sweeps without Celery beat (the embedded default): queue again the "
        "registrations still waiting for validation and, with an external geocoder, those whose "
        "coordinates still have no address; revalidate recent FAILED ones; once a day purge "
        "registrations past their 7-year retention and request log records past REQUEST_LOG_DAYS; "
        "and publish the feed and send its due webhooks (on the embedded default, the only place "
        "webhooks are sent from)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass of each sweep, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        every = settings.VALIDATION_SWEEP_INTERVAL_SECONDS
        feed_every = settings.FEED_SWEEP_INTERVAL_SECONDS
        revalidate_every = settings.REVALIDATION_SWEEP_INTERVAL_SECONDS
        last_validation = -float(every)  # the first pass runs every sweep
        last_revalidation = 0.0
        last_purge = -PURGE_EVERY_SECONDS
        while True:
            if time.monotonic() - last_validation >= every or options["once"]:
                queued = requeue_waiting_validations()
                unplaced = requeue_unplaced_registrations()
                if unplaced or options["once"]:
                    self.stdout.write(f"geocoding: {unplaced} registrations without an address handed over again")
                last_validation = time.monotonic()
                if time.monotonic() - last_revalidation >= revalidate_every or options["once"]:
                    revalidated = revalidate_recent_failures()
                    last_revalidation = time.monotonic()
                    self.stdout.write(f"sweep: {queued} waiting queued, {revalidated} failed revalidated")
            if time.monotonic() - last_purge >= PURGE_EVERY_SECONDS or options["once"]:
                purged = purge_expired_registrations()
                records = purge_expired_request_logs()
                last_purge = time.monotonic()
                self.stdout.write(f"retention: {purged} expired registrations purged")
                self.stdout.write(f"request log: {records} records older than REQUEST_LOG_DAYS purged")
            sweep_feed()
            if options["once"]:
                return
            time.sleep(min(every, feed_every))
