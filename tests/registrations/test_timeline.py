"""The status timeline selector: a registration's history as statuses, dates, remarks, actors
and channels, read once for both gateways (and `lifecycle`'s one definition of validity and
status, which the timeline and the current status share)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from history.events import EventType
from registrations.domain.authorisation import Caller
from registrations.models import ClientRole, Registration, Status
from registrations.selectors.lifecycle import PresenceStatus, Validity, validity_of
from registrations.selectors.registrations import presence_statuses
from registrations.selectors.timeline import registration_timeline
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.corrections import CorrectionInput, registration_correct_cleaning
from registrations.services.presences import CancelInput, registration_cancel_batch, registrations_consulted
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, make_niss, make_workplace_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    """An enterprise client: registers its own cleaning events and sees them."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def inspection():
    """Inspection: sees everything, and every read it makes is recorded."""
    return caller_for(make_client(ClientRole.INSPECTION))


def check_in(employer, minutes_ago=6):
    [result] = registration_submit_cleaning_batch(
        items=[
            CleaningInput(
                event_type="IN",
                event_at=timezone.now() - timedelta(minutes=minutes_ago),
                niss=make_niss(),
                workplace_id=make_workplace_id(),
                enterprise_number=employer.enterprise_number,
                latitude=50.8465,
                longitude=4.3517,
            )
        ],
        caller=employer,
    )
    assert result.registration is not None
    return result.registration


def story(employer, inspection):
    """Checked in, validated with remarks (no reference data), read by inspection, corrected
    by an operator, cancelled by its sender: the registration, reloaded."""
    registration = check_in(employer)
    registration_validate_batch(registration_ids=[registration.pk])
    registrations_consulted(caller=inspection, registrations=[registration], channel="REST")
    registration_correct_cleaning(
        correction=CorrectionInput(registration.pk, "OUT", timezone.now() - timedelta(minutes=1), "forgot the OUT"),
        caller=Caller.for_operator("cor"),
    )
    registration_cancel_batch(items=[CancelInput(registration.pk, "PLANNING")], caller=employer, channel="REST")
    return Registration.objects.get(pk=registration.pk)


def test_the_timeline_tells_each_status_with_its_date_remarks_actor_and_channel(employer, inspection):
    registration = story(employer, inspection)
    entries = registration_timeline(caller=inspection, registration_id=registration.pk)
    assert [entry.event_type for entry in entries] == [
        EventType.CREATED,
        EventType.VALIDATED,
        EventType.CONSULTED,
        EventType.CORRECTED,
        EventType.CANCELLED,
    ]
    assert [entry.status for entry in entries] == [
        PresenceStatus.REGISTERED,
        PresenceStatus.REGISTERED,
        None,  # a read changes nothing
        PresenceStatus.EDITED,
        PresenceStatus.CANCELLED,
    ]
    assert [entry.stored_status for entry in entries] == [
        Status.REGISTERED,
        Status.FAILED,
        None,
        None,
        Status.CANCELLED,
    ]
    created, validated, consulted, corrected, cancelled = entries
    assert (validated.validity, validated.remarks) == (Validity.INVALID, tuple(registration.remarks))
    assert validated.remarks != ()
    assert (created.remarks, created.validity) == (None, None)
    assert (consulted.actor, consulted.channel) == (inspection.actor, "REST")
    assert (corrected.actor, corrected.channel, corrected.note) == ("operator:cor", "ADMIN", "forgot the OUT")
    assert (cancelled.actor, cancelled.channel, cancelled.reason) == (employer.actor, "REST", "PLANNING")
    assert cancelled.occurred_at == registration.cancelled_at
    assert created.occurred_at == registration.created_at
    assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]


def test_inspections_reads_are_left_out_for_a_caller_who_does_not_see_everything(employer, inspection):
    registration = story(employer, inspection)
    entries = registration_timeline(caller=employer, registration_id=registration.pk)
    assert EventType.CONSULTED not in [entry.event_type for entry in entries]
    assert [entry.sequence for entry in entries] == [1, 2, 4, 5]


def test_a_correction_supersedes_until_a_cancellation_and_the_current_status_agrees(employer, inspection):
    registration = check_in(employer)
    registration_correct_cleaning(
        correction=CorrectionInput(registration.pk, "OUT", timezone.now() - timedelta(minutes=1), "forgot"),
        caller=Caller.for_operator("cor"),
    )
    registration_validate_batch(registration_ids=[registration.pk])  # a validation after the correction
    registration.refresh_from_db()
    entries = registration_timeline(caller=inspection, registration_id=registration.pk)
    assert [entry.status for entry in entries] == [
        PresenceStatus.REGISTERED,
        PresenceStatus.EDITED,
        PresenceStatus.EDITED,  # still superseded: a validation does not undo the correction
    ]
    current = presence_statuses(registrations=[registration])[registration.pk]
    assert (current.code, current.date) == (PresenceStatus.EDITED, entries[1].occurred_at)


def test_a_registration_without_history_has_an_empty_timeline(inspection):
    assert registration_timeline(caller=inspection, registration_id=987654321) == []


def test_validity_is_kept_by_a_cancellation(employer):
    waiting, checked = check_in(employer, minutes_ago=6), check_in(employer, minutes_ago=5)
    registration_validate_batch(registration_ids=[checked.pk])
    items = [CancelInput(waiting.pk, "PLANNING"), CancelInput(checked.pk, "PLANNING")]
    registration_cancel_batch(items=items, caller=employer, channel="REST")
    waiting.refresh_from_db()
    checked.refresh_from_db()
    assert (waiting.status, validity_of(waiting)) == (Status.CANCELLED, Validity.PENDING)
    assert (checked.status, validity_of(checked)) == (Status.CANCELLED, Validity.INVALID)
    statuses = presence_statuses(registrations=[waiting, checked])
    assert {status.code for status in statuses.values()} == {PresenceStatus.CANCELLED}
    assert statuses[checked.pk].date == checked.cancelled_at
