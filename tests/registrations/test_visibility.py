"""Visibility read both ways: `clients_seeing` (which clients may see a registration, the
feed's fan-out) answers exactly as `registrations_visible_to` (what a caller may see, every
read) for every caller of a varied world: senders, employers, builders, subcontractors,
professionals with and without mandates, inspection, strangers."""

import random

import pytest
from django.utils import timezone

from registrations.domain.authorisation import Caller, CallerRole
from registrations.models import Client, ClientRole, DeclarationParty, Registration
from registrations.selectors.clients import caller_for_client
from registrations.selectors.registrations import registrations_visible_to
from registrations.selectors.visibility import (
    ROLE_GROUNDS,
    Ground,
    Parties,
    audiences,
    clients_seeing,
    parties_of,
)
from tests.factories import make_client, make_declaration, make_enterprise_number, make_niss, make_workplace_id

pytestmark = pytest.mark.django_db


def _registration(sender: Client | None, employer: str, workplace: str, **extra) -> Registration:
    return Registration.objects.create(
        sector=1,
        channel="WS",
        sender=sender,
        sender_enterprise_number=sender.enterprise_number if sender else "",
        created_at=timezone.now(),
        registration_date=timezone.localdate(),
        niss=make_niss(),
        enterprise_number=employer,
        workplace_id=workplace,
        submitted={},
        dedup_key=f"{employer}|{workplace}|{make_niss()}",
        **extra,
    )


def _world(seed: int) -> tuple[list[Client], list[Registration]]:
    """Enterprises, Declarations of Works (a builder, subcontractors), clients of every role,
    and registrations sent by clients, by operators, for another employer, by foreign employers."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible world, no secret
    enterprises = [make_enterprise_number() for _ in range(8)]
    workplaces = [make_workplace_id() for _ in range(6)]
    for workplace in workplaces[:5]:  # the last workplace has no declaration
        builder, *subcontractors = rng.sample(enterprises, 3)
        make_declaration(builder=builder, subcontractors=tuple(subcontractors), number=workplace)
    # A workplace with two builders (a joint venture): both see it.
    DeclarationParty.objects.get_or_create(
        declaration_id=workplaces[0], enterprise_number=enterprises[7], role="builder"
    )
    clients = [make_client(ClientRole.ENTERPRISE, enterprise) for enterprise in enterprises]
    clients += [make_client(ClientRole.ENTERPRISE, rng.choice(enterprises)) for _ in range(3)]  # SOAP + REST of one
    clients += [
        make_client(ClientRole.PROFESSIONAL, mandates=rng.sample(enterprises, rng.randint(0, 3))) for _ in range(4)
    ]
    clients += [make_client(ClientRole.INSPECTION)]
    clients += [make_client(ClientRole.ENTERPRISE)]  # a stranger to every registration
    senders = [client for client in clients if client.role == ClientRole.ENTERPRISE]
    registrations = []
    for _ in range(120):
        sender = rng.choice([*senders, None])  # None: an operator
        employer = (
            rng.choice([*enterprises, ""])
            if rng.random() < 0.3
            else (sender.enterprise_number if sender else rng.choice(enterprises))
        )
        extra = {"foreign_vat_number": "NL123456789B01"} if employer == "" else {}
        registrations.append(_registration(sender, employer, rng.choice(workplaces), **extra))
    return clients, registrations


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_who_may_see_a_registration_is_the_inverse_of_what_each_caller_sees(seed):
    clients, registrations = _world(seed)
    parties = parties_of(registration_ids=[registration.pk for registration in registrations])
    seeing = clients_seeing(parties=parties.values(), among={client.pk for client in clients})

    for client in clients:
        forward = set(registrations_visible_to(caller_for_client(client)).values_list("id", flat=True))
        inverse = {pk for pk, own in parties.items() if client.pk in seeing[own]}
        assert inverse == forward, f"{client.role} client {client.enterprise_number}"
    assert any(len(audience) > 2 for audience in seeing.values())  # the world is not trivial


@pytest.mark.parametrize("seed", [4, 5])
def test_the_feed_s_audiences_are_the_same_asked_per_client_or_per_registration(seed):
    """`audiences` asks per client when there are fewer clients than sets of parties, per
    set of parties otherwise: both answers are what each caller sees."""
    clients, registrations = _world(seed)
    everyone = {client.pk for client in clients}
    truth = {
        registration.pk: frozenset(
            client.pk
            for client in clients
            if registrations_visible_to(caller_for_client(client)).filter(pk=registration.pk).exists()
        )
        for registration in registrations
    }
    many = [registration.pk for registration in registrations]  # more sets of parties than clients
    few = many[:3]  # fewer

    assert audiences(registration_ids=many, among=everyone) == {pk: truth[pk] for pk in many}
    assert audiences(registration_ids=few, among=everyone) == {pk: truth[pk] for pk in few}
    some = set(list(everyone)[:4])
    assert audiences(registration_ids=many, among=some) == {pk: truth[pk] & some for pk in many}


def test_a_builder_sees_its_subcontractors_registrations_on_its_site_and_a_stranger_nothing():
    builder, subcontractor, stranger = (make_client(ClientRole.ENTERPRISE) for _ in range(3))
    site = make_declaration(builder=builder.enterprise_number, subcontractors=(subcontractor.enterprise_number,))
    on_site = _registration(subcontractor, subcontractor.enterprise_number, site.number)
    elsewhere = _registration(subcontractor, subcontractor.enterprise_number, make_workplace_id())
    everyone = {builder.pk, subcontractor.pk, stranger.pk}

    seeing = clients_seeing(parties=parties_of(registration_ids=[on_site.pk, elsewhere.pk]).values(), among=everyone)

    parties = parties_of(registration_ids=[on_site.pk, elsewhere.pk])
    assert seeing[parties[on_site.pk]] == {builder.pk, subcontractor.pk}
    assert seeing[parties[elsewhere.pk]] == {subcontractor.pk}


def test_only_the_clients_asked_about_are_answered():
    sender = make_client(ClientRole.ENTERPRISE)
    inspection = make_client(ClientRole.INSPECTION)
    registration = _registration(sender, sender.enterprise_number, make_workplace_id())
    own = Parties(sender.pk, sender.enterprise_number, registration.workplace_id)

    assert clients_seeing(parties=[own], among={inspection.pk}) == {own: frozenset({inspection.pk})}
    assert clients_seeing(parties=[own], among=set()) == {own: frozenset()}


def test_every_role_has_its_grounds_and_those_who_see_everything_see_on_that_ground_alone():
    assert set(ROLE_GROUNDS) == set(CallerRole)
    for role, grounds in ROLE_GROUNDS.items():
        sees_everything = caller_for_role(role).sees_everything
        assert (grounds == (Ground.EVERYTHING,)) == sees_everything


def caller_for_role(role: CallerRole) -> Caller:
    if role == CallerRole.OPERATOR:
        return Caller.for_operator("ops")
    return caller_for_client(make_client(ClientRole(role.value)))
