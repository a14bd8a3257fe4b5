"""A SOAP presence on a cleaning workplace stays a presence (spec §5, §6; docs/adr/0011).

Cleaning is real-time IN/OUT over REST only. A `registerPresences` item naming a cleaning
Declaration of Works is stored as the presence it is, and validation says the site is not
subject to it (remark 13); it never becomes a cleaning event without type or time.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.models import Channel, ClientRole, Registration, Sector, Status
from registrations.services.presences import registration_submit_batch
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, presence

pytestmark = pytest.mark.django_db

SITE_NOT_SUBJECT = 13


@pytest.fixture
def sender():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def submit_on(sector, sender):
    declaration = make_declaration(builder=sender.enterprise_number, sector=sector)
    item = presence(
        caller=sender,
        workplace_id=declaration.number,
        registration_date=timezone.localdate() + timedelta(days=1),
    )
    [result] = registration_submit_batch(items=[item], caller=sender, channel=Channel.WS)
    assert result.registration is not None
    assert not result.errors
    return result.registration


def test_a_presence_on_a_cleaning_workplace_is_stored_as_a_presence(sender):
    registration = Registration.objects.get(pk=submit_on(Sector.CLEANING, sender).pk)
    assert registration.sector == Sector.CONSTRUCTION
    assert (registration.channel, registration.event_type, registration.event_at) == (Channel.WS, "", None)


def test_validation_says_the_cleaning_site_is_not_subject_to_the_presence(sender):
    registration = submit_on(Sector.CLEANING, sender)
    registration_validate_batch(registration_ids=[registration.pk])
    validated = Registration.objects.get(pk=registration.pk)
    assert SITE_NOT_SUBJECT in validated.remarks
    assert (validated.status, validated.sector) == (Status.FAILED, Sector.CONSTRUCTION)


def test_a_presence_on_a_meat_workplace_keeps_the_meat_sector(sender):
    registration = submit_on(Sector.MEAT, sender)
    registration_validate_batch(registration_ids=[registration.pk])
    validated = Registration.objects.get(pk=registration.pk)
    assert validated.sector == Sector.MEAT
    assert SITE_NOT_SUBJECT not in validated.remarks
