"""manage.py purge_expired [--dry-run]: the retention purge by hand, with a report."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from registrations.domain.retention import RETENTION_YEARS
from registrations.services.retention import registrations_purge_expired


class Command(BaseCommand):
    help = (
        f"Delete registrations (and their history) dated more than {RETENTION_YEARS} years ago, "
        "except under legal hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would be purged, delete nothing")
        parser.add_argument("--actor", default="system", help='recorded in the purge log, e.g. "operator:alice"')

    def handle(self, *args: Any, **options: Any) -> None:
        report = registrations_purge_expired(actor=options["actor"], dry_run=options["dry_run"])
        verb = "would purge" if report.dry_run else "purged"
        self.stdout.write(
            f"{verb} {report.registrations} registration(s) and {report.events} history event(s) "
            f"dated before {report.cutoff.isoformat()}; kept under legal hold: {report.held}"
        )
