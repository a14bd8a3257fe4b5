from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registrations.domain.vocabulary import ClientRole
from registrations.services.clients import ClientRegistrationError, client_register


def _read(path: str | None) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc


class Command(BaseCommand):
    help = "Register an integrator client; prints the new client id alone on its last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--enterprise-number", required=True)
        parser.add_argument("--role", required=True, choices=ClientRole.values)
        parser.add_argument("--certificate", help="PEM X.509 certificate for SOAP (WS-Security)")
        parser.add_argument("--public-key", help="PEM public key for REST client assertions")
        parser.add_argument(
            "--mandated-by",
            default="",
            help="comma-separated enterprise numbers a professional client acts for",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        mandated_by = [number for number in options["mandated_by"].split(",") if number.strip()]
        try:
            client = client_register(
                name=options["name"],
                enterprise_number=options["enterprise_number"],
                role=ClientRole(options["role"]),
                certificate_pem=_read(options["certificate"]),
                public_key_pem=_read(options["public_key"]),
                mandated_by=mandated_by,
            )
        except ClientRegistrationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Registered {client.role} client {client.name!r}")
        self.stdout.write(str(client.id))
