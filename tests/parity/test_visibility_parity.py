"""Who sees what (spec §8), through each gateway, for the cleaning events both read.

Parity here means: each party finds the same set through SOAP searchPresences (sector 4),
REST POST search and REST GET list, and reads exactly those by id through SOAP
getPresenceRegistration and REST GET; every other id answers exactly as an unknown id does,
in the same answer shape (SOAP: the empty element; REST: the same 404 problem).

The parties: the employer (sender and employer of its own), a client sending for another
employer (sees what it sent), the builder of a workplace (sees everything on it, whoever
employs), a professional (its mandating enterprises'), inspection (everything), and another
enterprise (its own only).
"""

import pytest

from tests.parity.conftest import CLEANING, PARTIES, SEES
from tests.parity.gateways import SEARCH_ROUTES, Criteria, Missing, Page, Shown

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("route", SEARCH_ROUTES)
@pytest.mark.parametrize("party", PARTIES)
def test_each_party_finds_what_it_may_see(world, party, route):
    expected = world.ids_of(*SEES[party])
    assert world.gateway(route, party).search(Criteria()) == Page(len(expected), expected)


@pytest.mark.parametrize("gateway", ["soap", "rest"])
@pytest.mark.parametrize("party", PARTIES)
def test_each_party_reads_what_it_may_see_and_nothing_else_exists(world, party, gateway):
    reader = world.gateway(gateway, party)
    unknown = reader.get(world.unknown_id())
    assert isinstance(unknown, Missing)
    for story in CLEANING:
        shown = reader.get(world.ids[story])
        if story in SEES[party]:
            assert isinstance(shown, Shown), story
            assert shown.id == world.ids[story]
        else:
            assert shown == unknown, story


@pytest.mark.parametrize("gateway", ["soap", "rest"])
def test_another_partys_history_is_as_unknown_as_an_unknown_id(world, gateway):
    reader = world.gateway(gateway, "other")
    unknown = reader.history(world.unknown_id())
    assert isinstance(unknown, Missing)
    assert reader.history(world.ids["valid"]) == unknown


@pytest.mark.parametrize("route", SEARCH_ROUTES)
def test_naming_another_partys_employer_or_workplace_finds_nothing_more(world, route):
    search = world.gateway(route, "other")
    assert search.search(Criteria(employer=world.enterprises["E"])) == Page(0, ())
    own = world.ids_of("other")
    assert search.search(Criteria(workplace=world.workplaces["W"])) == Page(len(own), own)


@pytest.mark.parametrize("route", ["soap", "rest"])  # GET takes no NISS
def test_naming_another_partys_worker_finds_nothing(world, route):
    search = world.gateway(route, "other")
    assert search.search(Criteria(niss=world.expected("valid").niss)) == Page(0, ())
