"""Worker transparency (issue 7): who consulted a person's registrations, and when.

Read from the history's `registration.consulted` events of the registrations of one NISS
(the (niss, date) index, then each registration's events). The NISS comes in a form or a
request body, never in a URL, and is never logged (spec §9).
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from history.events import EventType
from history.models import HistoryEvent
from registrations.domain.exceptions import ItemError
from registrations.domain.identifiers import normalise_niss
from registrations.models import Client

MAX_ACCESSES = 1000


class InvalidNissError(ValueError):
    """The number given is not a valid NISS or BIS number."""


@dataclass(frozen=True)
class Access:
    """One read of one registration of the person."""

    occurred_at: datetime
    actor: str
    who: str  # the client's name, or the actor itself when it is not a client
    channel: str
    registration_id: int
    registration_date: date
    workplace_id: str


def _client_names(actors: set[str]) -> dict[str, str]:
    ids: list[UUID] = []
    for actor in actors:
        kind, _, value = actor.partition(":")
        if kind == "client":
            try:
                ids.append(UUID(value))
            except ValueError:
                continue
    return {f"client:{client.pk}": client.name for client in Client.objects.filter(pk__in=ids)}


def worker_accesses(*, niss: str) -> list[Access]:
    """Every consultation of the person's registrations, newest first (at most 1000).

    Raises InvalidNissError when `niss` is not a valid number.
    """
    number = normalise_niss(niss)
    if isinstance(number, ItemError):
        raise InvalidNissError(number.description)
    events = list(
        HistoryEvent.objects.filter(registration__niss=number, event_type=EventType.CONSULTED)
        .select_related("registration")
        .order_by("-occurred_at", "-id")[:MAX_ACCESSES]
    )
    names = _client_names({event.actor for event in events})
    return [
        Access(
            occurred_at=event.occurred_at,
            actor=event.actor,
            who=names.get(event.actor, event.actor),
            channel=event.channel,
            registration_id=event.registration_id,
            registration_date=event.registration.registration_date,
            workplace_id=event.registration.workplace_id,
        )
        for event in events
    ]
