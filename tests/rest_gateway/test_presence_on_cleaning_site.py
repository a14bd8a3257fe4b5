"""The REST service shows cleaning events only: never a registration without its type and
time, whether a SOAP presence on a cleaning workplace or a sector-4 row stored without an
event before presences kept their own sector (docs/adr/0011)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Channel, ClientRole, Registration, Sector
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence

pytestmark = pytest.mark.django_db

NOT_IN_THIS_SERVICE = 10


@pytest.fixture
def soap_presence(employer):
    """The employer's SOAP presence for tomorrow on a cleaning workplace it declared."""
    soap_sender = caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=employer.enterprise_number))
    declaration = make_declaration(builder=employer.enterprise_number, sector=Sector.CLEANING)
    item = presence(
        caller=soap_sender,
        workplace_id=declaration.number,
        registration_date=timezone.localdate() + timedelta(days=1),
    )
    [result] = registration_submit_batch(items=[item], caller=soap_sender, channel=Channel.WS)
    assert result.registration is not None
    return result.registration


@pytest.fixture
def stored_without_event(employer):
    """A sector-4 row with no event, as SOAP stored such presences before."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    return Registration.objects.create(
        sector=Sector.CLEANING,
        channel=Channel.WS,
        created_at=timezone.now(),
        registration_date=tomorrow,
        niss=make_niss(),
        enterprise_number=employer.enterprise_number,
        workplace_id=make_declaration(builder=employer.enterprise_number, sector=Sector.CLEANING).number,
        submitted={},
        dedup_key=f"legacy|{tomorrow}",
    )


def shown_by_rest(api, registration):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    window = {"registrationDate": {"startDate": tomorrow, "endDate": tomorrow}}
    found = api.post("/presenceRegistrations/search", {"criteria": window}).json()
    listed = api.get("/presenceRegistrations", {"registrationDateFrom": tomorrow, "registrationDateTo": tomorrow})
    cancel = api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": registration.pk, "reason": "PLANNING"}]})
    return {
        "get": api.get(f"/presenceRegistrations/{registration.pk}").status_code,
        "search": (found["total"], found["items"]),
        "list": (listed.json()["total"], listed.json()["items"]),
        "cancel": [e["errorCode"] for e in cancel.json()["items"][0]["notCancelledPresenceRegistration"]["errorList"]],
    }


EXPECTED = {"get": 404, "search": (0, []), "list": (0, []), "cancel": [NOT_IN_THIS_SERVICE]}


def test_a_soap_presence_on_a_cleaning_workplace_is_not_shown_as_a_cleaning_event(api, soap_presence):
    assert shown_by_rest(api, soap_presence) == EXPECTED


def test_a_sector_4_row_without_an_event_is_not_shown_as_a_cleaning_event(api, stored_without_event):
    assert shown_by_rest(api, stored_without_event) == EXPECTED
    assert Registration.objects.get(pk=stored_without_event.pk).status == "registered"
