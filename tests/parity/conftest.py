"""The parity world: the same parties behind both gateways, and registrations made through them.

Parties (each one client with a certificate for SOAP and a key for REST, spec §8):
- employer: enterprise E, employs the people of most registrations and sends them itself;
- sender: enterprise S, sends a registration for employer X, which has no client (ADR 0008);
- builder: enterprise B, builder of the Declarations of Works W (cleaning) and WC
  (construction), on which E is a subcontractor;
- professional: a social secretariat mandated by E and X;
- inspection: consults everything;
- other: enterprise O, employs one person on W.

Registrations (cleaning events through REST, construction presences through SOAP; each gateway
writes only its own sector):
- valid: E's employee on W, validated without remarks;
- invalid: E, on W2 (no declaration), validated with remarks;
- invalid_cancelled: E, on W, validated with remarks, then cancelled by E;
- pending: E, on W2, not validated yet;
- pending_cancelled: E, on W, cancelled by E before any validation;
- by_sender: sent by S for X, on W2, validated with remarks;
- other: O's, on W, validated with remarks;
- presence: E's construction presence on WC (SOAP), validated;
- presence_cancelled: the same, cancelled by E over SOAP.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.utils import timezone

from registrations.models import ClientMandate, ClientRole, DimonaPeriod, Enterprise, Person, Registration
from tests.factories import make_declaration, make_enterprise_number, make_niss, make_workplace_id
from tests.parity.gateways import Gateway, Party, RestGateway, Shown, SoapGateway, gateway, private_key
from tests.rest_gateway.conftest import public_pem
from tests.soap_gateway.conftest import Credentials, make_credentials
from tests.soap_gateway.conftest import register as register_certificate

PARTIES = ("employer", "sender", "builder", "professional", "inspection", "other")
CLEANING = ("valid", "invalid", "invalid_cancelled", "pending", "pending_cancelled", "by_sender", "other")
# What each party may see of the cleaning events (spec §8), by name.
SEES = {
    "employer": ("valid", "invalid", "invalid_cancelled", "pending", "pending_cancelled"),
    "sender": ("by_sender",),
    "builder": ("valid", "invalid_cancelled", "pending_cancelled", "other"),
    "professional": ("valid", "invalid", "invalid_cancelled", "pending", "pending_cancelled", "by_sender"),
    "inspection": CLEANING,
    "other": ("other",),
}
# The status and validity each story ends in.
OUTCOMES = {
    "valid": ("registered", "valid"),
    "invalid": ("registered", "invalid"),
    "invalid_cancelled": ("cancelled", "invalid"),
    "pending": ("registered", "pending"),
    "pending_cancelled": ("cancelled", "pending"),
    "by_sender": ("registered", "invalid"),
    "other": ("registered", "invalid"),
}


@pytest.fixture(scope="session")
def parity_keys(tmp_path_factory) -> dict[str, tuple[Credentials, Any]]:
    """Each party's certificate and its private key (loaded once: loading checks the key)."""
    directory = tmp_path_factory.mktemp("parity-credentials")
    credentials = {name: make_credentials(directory, f"parity-{name}") for name in PARTIES}
    return {name: (found, private_key(found)) for name, found in credentials.items()}


def make_party(
    keys: tuple[Credentials, Any],
    role: ClientRole,
    enterprise_number: str | None = None,
    mandates: tuple[str, ...] = (),
) -> Party:
    """A client with a certificate (SOAP) and the public key of the same key pair (REST)."""
    credentials, key = keys
    client = register_certificate(credentials, role, enterprise_number)
    client.public_key_pem = public_pem(key)
    client.save(update_fields=["public_key_pem"])
    for number in mandates:
        ClientMandate.objects.create(client=client, enterprise_number=number)
    return Party(client, credentials, key)


def employee_of(enterprise_number: str) -> str:
    """A person in the National Register with a Dimona of this employer: no remark."""
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="Ann", family_name="Peeters")
    DimonaPeriod.objects.create(employer=enterprise_number, niss=niss, start=date(2020, 1, 1), worker_type="employee")
    return niss


@dataclass
class World:
    http: DjangoClient
    parties: dict[str, Party]
    enterprises: dict[str, str]
    workplaces: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)
    _gateways: dict[tuple[str, str], Gateway] = field(default_factory=dict)

    def gateway(self, kind: str, party: str = "employer") -> Gateway:
        """The gateway as this party calls it ("soap", "rest" or "rest-get"); one token each."""
        if (kind, party) not in self._gateways:
            self._gateways[kind, party] = gateway(kind, self.http, self.parties[party])
        return self._gateways[kind, party]

    def soap(self, party: str = "employer") -> SoapGateway:
        found = self.gateway("soap", party)
        assert isinstance(found, SoapGateway)
        return found

    def rest(self, party: str = "employer") -> RestGateway:
        found = self.gateway("rest", party)
        assert isinstance(found, RestGateway)
        return found

    def ids_of(self, *names: str) -> tuple[int, ...]:
        """The ids of these stories, in id order (both gateways' default order)."""
        return tuple(sorted(self.ids[name] for name in names))

    def unknown_id(self) -> int:
        return max(self.ids.values()) + 1000

    def expected(self, name: str) -> Shown:
        """What any gateway should show of a cleaning story: the stored facts, the story's
        status and validity, and the remarks the validation stored."""
        stored = Registration.objects.get(pk=self.ids[name])
        status, validity = OUTCOMES[name]
        remarks = tuple(sorted(stored.remarks))
        assert bool(remarks) == (validity == "invalid"), (name, remarks)
        return Shown(
            id=stored.pk,
            niss=stored.niss,
            employer=stored.enterprise_number,
            workplace=stored.workplace_id,
            registration_date=stored.registration_date,
            status=status,
            validity=validity,
            remarks=remarks,
        )


@pytest.fixture
def world(db, client, parity_keys, django_capture_on_commit_callbacks) -> World:
    enterprises = {name: make_enterprise_number() for name in ("E", "S", "B", "X", "O")}
    e, b = enterprises["E"], enterprises["B"]
    Enterprise.objects.create(enterprise_number=e, name="Employer E", active_from=date(2000, 1, 1))
    keys = parity_keys
    parties = {
        "employer": make_party(keys["employer"], ClientRole.ENTERPRISE, e),
        "sender": make_party(keys["sender"], ClientRole.ENTERPRISE, enterprises["S"]),
        "builder": make_party(keys["builder"], ClientRole.ENTERPRISE, b),
        "professional": make_party(keys["professional"], ClientRole.PROFESSIONAL, mandates=(e, enterprises["X"])),
        "inspection": make_party(keys["inspection"], ClientRole.INSPECTION),
        "other": make_party(keys["other"], ClientRole.ENTERPRISE, enterprises["O"]),
    }
    workplaces = {
        "W": make_declaration(builder=b, subcontractors=(e,), sector=4).number,
        "W2": make_workplace_id(),
        "WC": make_declaration(builder=b, subcontractors=(e,)).number,
    }
    world = World(client, parties, enterprises, workplaces)
    at = timezone.now() - timedelta(minutes=1)
    w, w2 = workplaces["W"], workplaces["W2"]

    def clean(party: str, employer: str, **stories: tuple[str, str]) -> None:
        ids = world.rest(party).register(employer=employer, at=at, presences=list(stories.values()))
        world.ids.update(zip(stories, ids, strict=True))

    with django_capture_on_commit_callbacks(execute=True):  # validation runs after commit
        clean("employer", e, valid=(employee_of(e), w), invalid=(make_niss(), w2), invalid_cancelled=(make_niss(), w))
        clean("sender", enterprises["X"], by_sender=(make_niss(), w2))
        clean("other", enterprises["O"], other=(make_niss(), w))
        presences = [(make_niss(), workplaces["WC"]), (make_niss(), workplaces["WC"])]
        ids = world.soap().register(employer=e, when=timezone.localdate(), presences=presences)
        world.ids.update(zip(("presence", "presence_cancelled"), ids, strict=True))
    # Registered outside the capture: their validation is never run in this test.
    clean("employer", e, pending=(make_niss(), w2), pending_cancelled=(make_niss(), w))
    cancelled = world.rest().cancel([world.ids["invalid_cancelled"], world.ids["pending_cancelled"]])
    cancelled += world.soap().cancel([world.ids["presence_cancelled"]])
    assert [answer.code for answer in cancelled] == [None, None, None]
    return world
