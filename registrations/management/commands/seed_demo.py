from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registrations.models import Enterprise
from registrations.services.demo import demo_dir, seed_demo


class Command(BaseCommand):
    help = "Load a realistic demo world, two demo clients (keys in var/demo/) and today's registrations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true", help="do nothing when reference data exist")
        parser.add_argument("--seed", type=int, default=20261126)
        parser.add_argument(
            "--i-know-this-is-not-production",
            action="store_true",
            dest="not_production",
            help="load the demo into the PostgreSQL database of DATABASE_URL (a test or staging copy)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo registers an active inspection client whose private key lies on disk: never
        # in a production database by accident. The embedded SQLite database is a laptop's.
        if not settings.EMBEDDED and not options["not_production"]:
            raise CommandError(
                "DATABASE_URL is set: the demo (with an active inspection client) is not loaded into what "
                "may be a production database; add --i-know-this-is-not-production if it is not one"
            )
        if Enterprise.objects.exists():
            if options["if_empty"]:
                self.stdout.write("reference data present: demo not loaded again")
                return
            raise CommandError("this database already holds reference data: the demo loads into an empty one")
        created = seed_demo(seed=options["seed"])
        for section, count in created["reference"].items():
            self.stdout.write(f"{section}: {count}")
        self.stdout.write(f"registrations: {created['registrations']}")
        for role, client_id in created["clients"].items():
            self.stdout.write(f"{role} client: {client_id} (key and certificate in {demo_dir()}/)")
