"""The same story told through SOAP and through REST leaves the same history.

The story: the employer registers a presence of its employee through the gateway (SOAP a
construction presence, REST a cleaning IN: each gateway registers its own sector only), the
validation passes or fails, and the employer cancels it through the same gateway. Parity here
means: the stored history is the same sequence of event types, with the same statuses and the
same cancellation reason (actor and channel aside, which name the gateway), and each gateway
reads that story back as the same status timeline.
"""

import pytest
from django.utils import timezone

from history.models import HistoryEvent
from registrations.models import Registration
from tests.factories import make_niss
from tests.parity.conftest import employee_of
from tests.parity.gateways import Step

pytestmark = pytest.mark.django_db

VALIDATED = {"valid": "VALIDATED", "invalid": "FAILED"}


def tell(world, gateway, niss):
    """Register through the gateway, in its own sector, for employer E; the new id."""
    employer = world.enterprises["E"]
    if gateway == "soap":
        presences = [(niss, world.workplaces["WC"])]
        [registration_id] = world.soap().register(employer=employer, when=timezone.localdate(), presences=presences)
    else:
        presences = [(niss, world.workplaces["W"])]
        [registration_id] = world.rest().register(employer=employer, at=timezone.now(), presences=presences)
    return registration_id


@pytest.mark.parametrize("gateway", ["soap", "rest"])
@pytest.mark.parametrize("validity", ["valid", "invalid"])
def test_register_validate_cancel_leaves_the_same_history(world, gateway, validity, django_capture_on_commit_callbacks):
    niss = employee_of(world.enterprises["E"]) if validity == "valid" else make_niss()
    with django_capture_on_commit_callbacks(execute=True):
        registration_id = tell(world, gateway, niss)
    [cancelled] = world.gateway(gateway).cancel([registration_id], reason="PLANNING")
    assert cancelled.code is None

    events = HistoryEvent.objects.filter(registration_id=registration_id).order_by("seq")
    assert [(event.event_type, event.data.get("status"), event.data.get("reason")) for event in events] == [
        ("registration.created", "SUCCESSFULLY REGISTERED", None),
        ("registration.validated", VALIDATED[validity], None),
        ("registration.cancelled", "SUCCESSFULLY CANCELLED", "PLANNING"),
    ]
    remarks = tuple(sorted(Registration.objects.get(pk=registration_id).remarks))
    assert bool(remarks) == (validity == "invalid")
    assert world.gateway(gateway).history(registration_id) == [
        Step("registered", None),
        Step("registered", validity, remarks),
        Step("cancelled", None),
    ]
