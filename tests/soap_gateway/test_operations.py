"""The four operations through zeep built from the OFFICIAL WSDL, signed with WS-Security;
every response body is checked against the official XSD by the transport."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id

pytestmark = pytest.mark.django_db


def test_register_returns_the_stored_registration_and_echoes_the_item(zeep_as, credentials_a, client_a):
    service = zeep_as(credentials_a)
    niss, workplace = make_niss(), make_workplace_id()
    answer = service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": niss, "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": workplace}
        ]
    )
    (item,) = answer
    assert item.PresenceRegistrationError is None
    registration = item.PresenceRegistration
    assert registration.LastValidation.Status == "SUCCESSFULLY REGISTERED"
    assert registration.PresenceRegistrationSubmitted.INSS == niss
    assert registration.PresenceRegistrationSubmitted.RegistrationDate is None
    assert registration.Channel == "WS"
    stored = Registration.objects.get(pk=registration.PresenceRegistrationId)
    assert stored.niss == niss
    assert stored.sender_id == client_a.id
