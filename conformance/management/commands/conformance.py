import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conformance.contract import REST_PATH, TOKEN_PATH
from conformance.report import table, write_junit
from conformance.rest import RestClient
from conformance.runner import client_data, run
from conformance.scenarios import Kit, Party
from conformance.soap import SoapClient


class Command(BaseCommand):
    help = (
        "Run the conformance scenarios against a server implementing the SOAP and REST contracts "
        "(docs/sandbox.md); exits non-zero when one fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--soap-url", required=True, help="e.g. http://127.0.0.1:8000/PresenceRegistration/v1")
        parser.add_argument("--rest-url", required=True, help="e.g. http://127.0.0.1:8000/REST/presenceRegistration/v1")
        parser.add_argument("--token-url", help="default: the REST URL's host with /REST/oauth/v5/token")
        parser.add_argument("--certificate", required=True, type=Path, help="the client's PEM certificate (SOAP)")
        parser.add_argument("--key", required=True, type=Path, help="the client's PEM private key (SOAP and REST)")
        parser.add_argument("--client-id", required=True, help="the client's id (REST client assertions)")
        parser.add_argument(
            "--data", type=Path, help="the data file: `demo_sheet --json`, or your own (docs/sandbox.md)"
        )
        parser.add_argument("--junit", type=Path, help="write the results as JUnit XML here")
        for who, what in (
            ("consult", "a consult-only client (403, SOA-01002)"),
            ("second", "another enterprise client (duplicates)"),
        ):
            parser.add_argument(f"--{who}-client-id", help=f"{what}: its id")
            parser.add_argument(f"--{who}-certificate", type=Path, help=f"{what}: its certificate")
            parser.add_argument(f"--{who}-key", type=Path, help=f"{what}: its private key")
        parser.add_argument("--validation-timeout", type=float, default=30.0, help="seconds to wait for a validation")
        parser.add_argument("--rate-limit", action="store_true", help="also provoke a 429 at the token endpoint (last)")
        parser.add_argument("--only", default="", help="comma-separated groups to run (see docs/sandbox.md)")

    def handle(self, *args: Any, **options: Any) -> None:
        token_url = options["token_url"] or _token_url(options["rest_url"])
        kit = Kit(
            main=_party(options, "", token_url),
            consult=_party(options, "consult_", token_url),
            second=_party(options, "second_", token_url),
            validation_timeout=options["validation_timeout"],
            rate_limit=options["rate_limit"],
        )
        if kit.main is None:
            raise CommandError("--client-id, --certificate and --key are required")
        if options["data"]:
            try:
                kit.data = client_data(options["data"], options["client_id"])
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"cannot read the data file: {exc}") from exc
        for party in (kit.main, kit.consult, kit.second):
            if party is not None:
                party.rest.authenticate()
        groups = {group for group in options["only"].split(",") if group} or None
        results = run(kit, groups=groups)
        self.stdout.write(table(results))
        if options["junit"]:
            write_junit(results, options["junit"])
        if any(result.failed for result in results):
            sys.exit(1)


def _token_url(rest_url: str) -> str:
    base = rest_url.rstrip("/")
    if not base.endswith(REST_PATH):
        raise CommandError(f"--token-url is needed: --rest-url does not end with {REST_PATH}")
    return base.removesuffix(REST_PATH) + TOKEN_PATH


def _party(options: dict[str, Any], prefix: str, token_url: str) -> Any:
    client_id, certificate, key = (options[f"{prefix}{name}"] for name in ("client_id", "certificate", "key"))
    if not (client_id and certificate and key):
        return None
    try:
        key_pem = Path(key).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {key}: {exc}") from exc
    return Party(
        soap=SoapClient(options["soap_url"], Path(key), Path(certificate)),
        rest=RestClient(options["rest_url"], token_url, client_id, key_pem),
    )
