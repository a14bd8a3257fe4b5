"""Inspection's reads are logged (spec §3.2, §8): "every read of a registration by inspection"
is one `registration.consulted` event in that registration's history.

Parity here means: one read by inspection through either gateway, whatever the operation
(get; search, one read per registration on the page; history, which for SOAP is the
ValidationHistory that getPresenceRegistration returns), writes exactly one consulted event
per registration read, with inspection as actor and the gateway as channel, and none for a
registration it did not read; the same read by anyone else writes none.
"""

from collections import Counter

import pytest

from history.models import HistoryEvent
from tests.parity.conftest import CLEANING
from tests.parity.gateways import Criteria, Missing

pytestmark = pytest.mark.django_db

CHANNELS = {"soap": "WS", "rest": "REST", "rest-get": "REST"}
READS = [("soap", "get"), ("soap", "search"), ("soap", "history")]
READS += [("rest", "get"), ("rest", "search"), ("rest-get", "search"), ("rest", "history")]


def read(world, gateway, operation, party):
    """Read as this party; the ids of the registrations the answer shows."""
    reader = world.gateway(gateway, party)
    if operation == "search":
        return list(reader.search(Criteria()).ids)
    registration_id = world.ids["invalid_cancelled"]
    answer = reader.get(registration_id) if operation == "get" else reader.history(registration_id)
    return [] if isinstance(answer, Missing) else [registration_id]


def consulted():
    """The consulted events written so far: (registration id, actor, channel) -> count."""
    events = HistoryEvent.objects.filter(event_type="registration.consulted")
    return Counter(events.values_list("registration_id", "actor", "channel"))


@pytest.mark.parametrize(("gateway", "operation"), READS)
def test_each_registration_inspection_reads_gets_one_consulted_event(world, gateway, operation):
    before = consulted()
    shown = read(world, gateway, operation, "inspection")
    assert shown == ([world.ids["invalid_cancelled"]] if operation != "search" else list(world.ids_of(*CLEANING)))
    actor = f"client:{world.parties['inspection'].client.pk}"
    written = consulted() - before
    assert written == Counter({(registration_id, actor, CHANNELS[gateway]): 1 for registration_id in shown})


@pytest.mark.parametrize(("gateway", "operation"), READS)
def test_reads_by_anyone_else_are_not_logged(world, gateway, operation):
    before = consulted()
    assert read(world, gateway, operation, "professional")
    assert consulted() == before
