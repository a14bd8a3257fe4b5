"""Cancelling: SOAP cancelPresences and REST POST /presenceRegistrations/cancelInBulk.

Each gateway cancels only its own sector (spec §4.1 code 10): SOAP construction and meat
presences, REST cleaning events. Parity here means: the same situation, each on the gateway's
own kind of registration, gives the same per-item code and leaves the same stored outcome
(status, history):
- cancelled: status cancelled, one `registration.cancelled` event with the reason;
- 1, may see but not cancel: a builder looking at a subcontractor's registration, a
  professional, inspection. REST refuses the consult-only scopes (professional, inspection)
  the whole call with 403 missingScope before reading any id: the adapter reads that as
  code 1 for each item;
- 7, an unknown id and another party's id, with identical errors;
- 8, already cancelled;
- 10, the other gateway's kind of registration, even one's own.
Every refusal leaves the registration and its history as they were.
"""

import pytest

from history.models import HistoryEvent
from registrations.models import Registration
from tests.parity.gateways import CancelAnswer, Shown

pytestmark = pytest.mark.django_db

GATEWAYS = ["soap", "rest"]
# Per gateway: its own kind of registration (sent and employed by E, on B's workplace), the
# same already cancelled, and the other gateway's kind (also E's own).
OWN = {"soap": "presence", "rest": "valid"}
CANCELLED = {"soap": "presence_cancelled", "rest": "invalid_cancelled"}
FOREIGN = {"soap": "valid", "rest": "presence"}


def stored(world, story):
    """What cancelling may change: the status and the history's event types."""
    registration_id = world.ids[story]
    events = HistoryEvent.objects.filter(registration_id=registration_id).order_by("seq")
    return Registration.objects.get(pk=registration_id).status, [event.event_type for event in events]


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_employer_cancels_its_own_registration(world, gateway):
    story = OWN[gateway]
    status, history = stored(world, story)
    assert world.gateway(gateway).cancel([world.ids[story]], reason="DISEASE") == [CancelAnswer(None)]
    assert status != "cancelled"
    assert stored(world, story) == ("cancelled", [*history, "registration.cancelled"])
    last = HistoryEvent.objects.filter(registration_id=world.ids[story]).order_by("seq").last()
    assert last.data["reason"] == "DISEASE"


@pytest.mark.parametrize("gateway", GATEWAYS)
@pytest.mark.parametrize("party", ["builder", "professional", "inspection"])
def test_a_party_that_may_see_but_not_cancel_gets_code_1(world, gateway, party):
    story = OWN[gateway]
    assert isinstance(world.gateway(gateway, party).get(world.ids[story]), Shown)  # it may see it
    before = stored(world, story)  # after the read: inspection's read is in the history
    [answer] = world.gateway(gateway, party).cancel([world.ids[story]])
    assert answer.code == 1
    assert stored(world, story) == before


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_unknown_id_and_another_partys_id_get_the_same_code_7(world, gateway):
    before = stored(world, "other")
    other, unknown = world.gateway(gateway).cancel([world.ids["other"], world.unknown_id()])
    assert other.code == 7
    assert other == unknown
    assert stored(world, "other") == before


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_an_already_cancelled_registration_gets_code_8(world, gateway):
    story = CANCELLED[gateway]
    before = stored(world, story)
    [answer] = world.gateway(gateway).cancel([world.ids[story]])
    assert answer.code == 8
    assert stored(world, story) == before


@pytest.mark.parametrize("gateway", GATEWAYS)
def test_the_other_gateways_registration_gets_code_10(world, gateway):
    story = FOREIGN[gateway]
    before = stored(world, story)
    [answer] = world.gateway(gateway).cancel([world.ids[story]])
    assert answer.code == 10
    assert stored(world, story) == before
