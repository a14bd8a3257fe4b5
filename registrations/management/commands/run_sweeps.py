import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from registrations.tasks import requeue_waiting_validations, revalidate_recent_failures


class Command(BaseCommand):
    help = (
        "Run the periodic sweeps without Celery beat (the embedded default): queue again the "
        "registrations still waiting for validation, and revalidate recent FAILED ones."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass of each sweep, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        every = settings.VALIDATION_SWEEP_INTERVAL_SECONDS
        revalidate_every = settings.REVALIDATION_SWEEP_INTERVAL_SECONDS
        last_revalidation = 0.0
        while True:
            queued = requeue_waiting_validations()
            if time.monotonic() - last_revalidation >= revalidate_every or options["once"]:
                revalidated = revalidate_recent_failures()
                last_revalidation = time.monotonic()
                self.stdout.write(f"sweep: {queued} waiting queued, {revalidated} failed revalidated")
            if options["once"]:
                return
            time.sleep(every)
