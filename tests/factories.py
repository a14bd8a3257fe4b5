"""Builders for test data: checksum-valid identifiers, clients, callers, registrations."""

import itertools
from datetime import date

from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.models import Client, ClientMandate, ClientRole, DeclarationOfWorks, DeclarationParty
from registrations.selectors.clients import caller_for_client
from registrations.services.presences import PresenceInput

_serials = itertools.count(1)
_enterprise_bodies = itertools.count(4_481_819)
_workplace_numbers = itertools.count(1)


def make_niss(yymmdd: str = "850730", serial: int | None = None, *, born_2000: bool = False) -> str:
    """A NISS with a valid check: for births from 2000 the check is computed on "2" + digits."""
    base = f"{yymmdd}{(serial if serial is not None else next(_serials) % 998 + 1):03d}"
    number = int(("2" if born_2000 else "") + base)
    return f"{base}{97 - number % 97:02d}"


def make_enterprise_number(first: str = "0") -> str:
    body = f"{first}{next(_enterprise_bodies) % 10_000_000:07d}"
    return f"{body}{97 - int(body) % 97:02d}"


def make_workplace_id() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    number = next(_workplace_numbers)
    chars = []
    for _ in range(12):
        number, digit = divmod(number, len(alphabet))
        chars.append(alphabet[digit])
    return "1" + "".join(reversed(chars))


def make_client(
    role: ClientRole = ClientRole.ENTERPRISE,
    enterprise_number: str | None = None,
    mandates: list[str] | None = None,
) -> Client:
    client = Client.objects.create(
        name=f"{role} client", enterprise_number=enterprise_number or make_enterprise_number(), role=role
    )
    for number in mandates or []:
        ClientMandate.objects.create(client=client, enterprise_number=number)
    return client


def caller_for(client: Client) -> Caller:
    return caller_for_client(client)


def presence(
    *,
    caller: Caller | None = None,
    niss: str | None = None,
    enterprise_number: str | None = None,
    workplace_id: str | None = None,
    registration_date: date | None = None,
    **extra: object,
) -> PresenceInput:
    """A valid presence for the caller's own enterprise, today."""
    fields: dict[str, object] = {
        "niss": make_niss() if niss is None else niss,
        "enterprise_number": enterprise_number or (caller.enterprise_number if caller else make_enterprise_number()),
        "workplace_id": workplace_id or make_workplace_id(),
        "registration_date": registration_date or timezone.localdate(),
    }
    fields.update(extra)
    if "limosa_id" in extra:
        fields.pop("niss")
        fields.pop("enterprise_number")
    return PresenceInput(**fields)  # type: ignore[arg-type]


def make_declaration(
    *, builder: str, subcontractors: tuple[str, ...] = (), number: str | None = None, **fields: object
) -> DeclarationOfWorks:
    values: dict[str, object] = {
        "sector": 1,
        "amount": 1_000_000,
        "start_date": date(2020, 1, 1),
        "end_date": None,
        "builder": builder,
    }
    values.update(fields)
    declaration = DeclarationOfWorks.objects.create(number=number or make_workplace_id(), **values)
    DeclarationParty.objects.create(declaration=declaration, enterprise_number=builder, role="builder")
    for enterprise in subcontractors:
        DeclarationParty.objects.create(declaration=declaration, enterprise_number=enterprise, role="subcontractor")
    return declaration
