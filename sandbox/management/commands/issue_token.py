"""`manage.py issue_token CLIENT_ID`: a bearer token for a client, to paste in Swagger UI's
Authorize (sandbox mode only: elsewhere a token is had by a signed assertion, docs/rest.md)."""

from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registrations.domain.vocabulary import ClientRole
from registrations.selectors.clients import active_client
from rest_gateway.auth import ROLE_SCOPES, access_token_issue


class Command(BaseCommand):
    help = "Print a bearer token for an active client (sandbox mode only), with the scope of its role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", help="the client's id (a UUID)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SANDBOX_MODE:
            raise CommandError("issue_token exists in sandbox mode only (SANDBOX_MODE=1); elsewhere see docs/rest.md")
        try:
            client_id = UUID(options["client_id"])
        except ValueError:
            raise CommandError("the client id is a UUID") from None
        client = active_client(client_id=client_id)
        if client is None:
            raise CommandError("no active client has this id")
        scope = ROLE_SCOPES[ClientRole(client.role)]
        token, lifetime = access_token_issue(client=client, scopes=[scope])
        self.stdout.write(token)
        self.stderr.write(f"Bearer token of {client.name}: scope {scope}, valid {lifetime} s")
