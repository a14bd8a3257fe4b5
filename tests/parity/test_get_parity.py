"""Reading one registration: SOAP getPresenceRegistration and REST GET /presenceRegistrations/{id}.

Parity here means: for a cleaning event (the one kind of registration both gateways read;
REST never reads a construction or meat presence, spec §6), the same caller gets the same
outcome (found, or "not found") and the same key facts: id, NISS, employer, workplace,
registration date, status, validity and remarks, each in its contract's words (SOAP's
`VALIDATED` is REST's `registered` + `valid`; a cancelled registration keeps the validity of
its last validation in both). And its status timeline (SOAP's ValidationHistory, REST's
GET …/history) is the same list of steps.
"""

import pytest

from tests.parity.gateways import Missing, Step

pytestmark = pytest.mark.django_db

GATEWAYS = ["soap", "rest"]
STORIES = ("valid", "invalid", "invalid_cancelled", "pending", "pending_cancelled")


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("story", STORIES)
def test_the_employer_reads_the_same_facts(world, gateway, story):
    shown = world.gateway(gateway).get(world.ids[story])
    assert shown == world.expected(story)


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize(
    ("party", "story"),
    [("inspection", "by_sender"), ("builder", "other"), ("professional", "by_sender")],
)
def test_other_readers_read_the_same_facts(world, gateway, party, story):
    assert world.gateway(gateway, party).get(world.ids[story]) == world.expected(story)


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_unknown_id_is_not_found(world, gateway):
    assert isinstance(world.gateway(gateway).get(world.unknown_id()), Missing)


# Each story's timeline, given the remarks its failed validation stored.
TIMELINES = {
    "valid": lambda remarks: [Step("registered", None), Step("registered", "valid")],
    "invalid_cancelled": lambda remarks: [
        Step("registered", None),
        Step("registered", "invalid", remarks),
        Step("cancelled", None),
    ],
    "pending_cancelled": lambda remarks: [Step("registered", None), Step("cancelled", None)],
}


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("story", TIMELINES)
def test_the_status_timeline_is_the_same(world, gateway, story):
    expected = TIMELINES[story](world.expected(story).remarks)
    assert world.gateway(gateway).history(world.ids[story]) == expected
