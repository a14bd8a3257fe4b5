"""The status timeline selector: a registration's history as statuses, dates, remarks, actors
and channels, read once for both gateways (and `lifecycle`'s one definition of validity and
status, which the timeline and the current status share)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from history.events import EventType
from history.selectors import history_for_registration
from registrations.domain.authorisation import Caller
from registrations.models import ClientRole, DimonaPeriod, Enterprise, Person, Registration, Status
from registrations.selectors.lifecycle import PresenceStatus, Validity, validity_of
from registrations.selectors.registrations import presence_statuses
from registrations.selectors.timeline import registration_timeline
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.corrections import CorrectionInput, registration_correct_cleaning
from registrations.services.presences import (
    CancelInput,
    registration_cancel_batch,
    registration_submit_batch,
    registrations_consulted,
)
from registrations.services.retention import registrations_set_legal_hold
from registrations.validation.run import registration_revalidate, registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, make_workplace_id, presence

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


def test_each_validation_says_which_remarks_it_added_and_which_it_cleared(employer, inspection):
    """Validated without a Dimona (remark 1); the Dimona arrives and the employer stops being
    active: the revalidation clears remark 1 and adds remark 16."""
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="An", family_name="Peeters")
    enterprise = Enterprise.objects.create(
        enterprise_number=employer.enterprise_number, name="Bouw NV", active_from="2020-01-01"
    )
    declaration = make_declaration(builder=employer.enterprise_number)
    item = presence(caller=employer, niss=niss, workplace_id=declaration.number)
    [result] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    registration_validate_batch(registration_ids=[result.registration.pk])
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number, niss=niss, start="2020-01-01", worker_type="employee"
    )
    enterprise.active_to = date(2021, 1, 1)
    enterprise.save()
    registration_revalidate(registration_ids=[result.registration.pk])
    created, validated, revalidated = registration_timeline(caller=inspection, registration_id=result.registration.pk)
    assert (created.remarks_added, created.remarks_cleared) == ((), ())
    assert (validated.remarks, validated.remarks_added, validated.remarks_cleared) == ((1,), (1,), ())
    assert (revalidated.remarks, revalidated.remarks_added, revalidated.remarks_cleared) == ((16,), (16,), (1,))


def test_a_correction_names_its_registrations_both_ways_and_every_entry_keeps_its_payload(employer, inspection):
    registration = story(employer, inspection)
    entries = registration_timeline(caller=inspection, registration_id=registration.pk)
    corrected = next(entry for entry in entries if entry.event_type == EventType.CORRECTED)
    correction = Registration.objects.get(corrects_id=registration.pk)
    assert corrected.correction == correction.pk
    [created] = registration_timeline(caller=inspection, registration_id=correction.pk)[:1]
    assert (created.corrects, created.cleaning_event, created.note) == (registration.pk, "OUT", "forgot the OUT")
    assert entries[0].cleaning_event == "IN"
    assert [dict(entry.payload) for entry in entries] == [
        event.data for event in history_for_registration(registration_id=registration.pk)
    ]


def test_a_legal_hold_says_whether_it_was_placed_or_lifted(employer, inspection):
    registration = check_in(employer)
    for hold in (True, False):
        registrations_set_legal_hold(registration_ids=[registration.pk], hold=hold, caller=Caller.for_operator("a"))
    entries = registration_timeline(caller=inspection, registration_id=registration.pk)
    assert [entry.legal_hold for entry in entries] == [None, True, False]
