"""Who may see a registration (spec §8), defined once and read both ways.

Each ground of visibility is one rule with two faces: which registrations a caller sees on it
(`visible_registrations`, behind `registrations_visible_to` and so every read and every
cancellation), and which clients see a given registration on it (`clients_seeing`). A role's
grounds are listed once, in `ROLE_GROUNDS`, and both faces are built from that table and the
two functions below, side by side; tests/registrations/test_visibility.py proves the faces
equivalent for many callers. `audiences`, how the feed finds the webhook subscriptions an
event goes to, asks whichever face takes fewer queries.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from config.partitioning import months_of_ids
from registrations.domain.authorisation import Caller, CallerRole
from registrations.models import Client, DeclarationParty, Registration
from registrations.selectors.clients import caller_for_client


class Ground(StrEnum):
    """Why a caller may see a registration."""

    SENDER = "sender"  # the client sent it
    EMPLOYER = "employer"  # the client's enterprise is its employer
    BUILDER = "builder"  # the client's enterprise is the builder of its workplace's Declaration of Works
    MANDATE = "mandate"  # its employer mandated the (professional) client
    EVERYTHING = "everything"  # inspection and operators


ROLE_GROUNDS: dict[CallerRole, tuple[Ground, ...]] = {
    CallerRole.ENTERPRISE: (Ground.SENDER, Ground.EMPLOYER, Ground.BUILDER),
    CallerRole.PROFESSIONAL: (Ground.MANDATE,),
    CallerRole.INSPECTION: (Ground.EVERYTHING,),
    CallerRole.OPERATOR: (Ground.EVERYTHING,),
}


@dataclass(frozen=True)
class Parties:
    """What a registration's visibility depends on; none of it changes after admission."""

    sender_id: UUID | None
    enterprise_number: str
    workplace_id: str


def _workplaces_built_by(enterprise_number: str) -> QuerySet[DeclarationParty, Any]:
    return DeclarationParty.objects.filter(
        enterprise_number=enterprise_number, role=DeclarationParty.Role.BUILDER
    ).values("declaration_id")


def _builders_of(workplace_id: str) -> QuerySet[DeclarationParty, Any]:
    return DeclarationParty.objects.filter(declaration_id=workplace_id, role=DeclarationParty.Role.BUILDER).values(
        "enterprise_number"
    )


def _registrations_on(ground: Ground, caller: Caller) -> Q:
    """The registrations `caller` sees on `ground` (a filter of Registration)."""
    match ground:
        case Ground.SENDER:
            return Q(sender_id=caller.client_id)
        case Ground.EMPLOYER:
            return Q(enterprise_number=caller.enterprise_number)
        case Ground.BUILDER:
            return Q(workplace_id__in=_workplaces_built_by(caller.enterprise_number))
        case Ground.MANDATE:
            return Q(enterprise_number__in=caller.mandates)
        case Ground.EVERYTHING:
            return Q()


def _clients_on(ground: Ground, parties: Parties) -> Q:
    """The clients that see a registration of these parties on `ground` (a filter of Client),
    as callers built by `caller_for_client` (a professional's mandates are its ClientMandates)."""
    match ground:
        case Ground.SENDER:
            return Q(id=parties.sender_id)
        case Ground.EMPLOYER:
            return Q(enterprise_number=parties.enterprise_number)
        case Ground.BUILDER:
            return Q(enterprise_number__in=_builders_of(parties.workplace_id))
        case Ground.MANDATE:
            return Q(mandates__enterprise_number=parties.enterprise_number)
        case Ground.EVERYTHING:
            return Q()


def visible_registrations(caller: Caller) -> Q:
    """The filter of the registrations `caller` may see: any of its role's grounds."""
    return reduce(or_, (_registrations_on(ground, caller) for ground in ROLE_GROUNDS[caller.role]))


def _seeing(parties: Parties) -> Q:
    return reduce(
        or_,
        (
            Q(role=role.value) & reduce(or_, (_clients_on(ground, parties) for ground in grounds))
            for role, grounds in ROLE_GROUNDS.items()
        ),
    )


def clients_seeing(*, parties: Iterable[Parties], among: Collection[UUID]) -> dict[Parties, frozenset[UUID]]:
    """For each set of parties, the clients among `among` that may see a registration of
    theirs: the inverse of `registrations_visible_to`. One query per distinct set of parties
    (a batch from one sender, employer and workplace is one query)."""
    distinct = set(parties)
    if not among:
        return dict.fromkeys(distinct, frozenset())
    candidates = Client.objects.filter(id__in=among)
    return {
        one: frozenset(candidates.filter(_seeing(one)).order_by().values_list("id", flat=True).distinct())
        for one in distinct
    }


def parties_of(*, registration_ids: Collection[int]) -> dict[int, Parties]:
    """The parties of each registration, in one query (a purged registration is absent)."""
    rows = Registration.objects.filter(months_of_ids(registration_ids), id__in=registration_ids).values_list(
        "id", "sender_id", "enterprise_number", "workplace_id"
    )
    return {pk: Parties(sender, employer, workplace) for pk, sender, employer, workplace in rows}


def audiences(*, registration_ids: Collection[int], among: Collection[UUID]) -> dict[int, frozenset[UUID]]:
    """For each registration, the clients among `among` that may see it.

    Asked per client (each one's `visible_registrations` over these ids) when there are fewer
    clients than distinct sets of parties, else per set of parties (`clients_seeing`): the
    same rules either way, in as few queries as the batch allows.
    """
    parties = parties_of(registration_ids=registration_ids)
    if not among or not parties:
        return dict.fromkeys(parties, frozenset())
    if len(among) < len(set(parties.values())):
        seen: dict[int, set[UUID]] = {pk: set() for pk in parties}
        for client in Client.objects.filter(id__in=among):
            visible = Registration.objects.filter(
                visible_registrations(caller_for_client(client)), months_of_ids(parties), id__in=parties
            )
            for pk in visible.values_list("id", flat=True):
                seen[pk].add(client.pk)
        return {pk: frozenset(clients) for pk, clients in seen.items()}
    seeing = clients_seeing(parties=parties.values(), among=among)
    return {pk: seeing[own] for pk, own in parties.items()}
