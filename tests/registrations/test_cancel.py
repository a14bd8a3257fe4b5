"""Cancelling (spec §4.1 codes 1, 7-11) and who may cancel what (spec §8)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import BatchSizeError
from registrations.models import ClientRole, Registration, Sector, Status
from registrations.services.presences import CancelInput, registration_cancel_batch, registration_submit_batch
from tests.factories import caller_for, make_client, make_declaration, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def register(caller, **fields):
    [result] = registration_submit_batch(items=[presence(caller=caller, **fields)], caller=caller, channel="WS")
    return result.registration


def cancel(caller, registration_id, reason="PLANNING", channel="WS"):
    [result] = registration_cancel_batch(
        items=[CancelInput(registration_id=registration_id, reason=reason)], caller=caller, channel=channel
    )
    return result


def codes(result):
    return [int(error.code) for error in result.errors]


def test_the_sender_cancels_its_registration_and_history_records_it(employer):
    registration = register(employer)
    result = cancel(employer, registration.pk, reason="DISEASE")
    assert result.errors == []
    stored = Registration.objects.get(pk=registration.pk)
    assert stored.status == Status.CANCELLED
    assert stored.cancellation_reason == "DISEASE"
    last = stored.history_events.order_by("-seq").first()
    assert last.event_type == "registration.cancelled"
    assert last.data == {"status": "SUCCESSFULLY CANCELLED", "reason": "DISEASE"}
    assert last.actor == employer.actor


def test_cancelling_twice_answers_already_cancelled(employer):
    registration = register(employer)
    cancel(employer, registration.pk)
    assert codes(cancel(employer, registration.pk)) == [8]
    assert registration.history_events.filter(event_type="registration.cancelled").count() == 1


def test_the_same_id_twice_in_one_call_is_cancelled_once(employer):
    registration = register(employer)
    first, second = registration_cancel_batch(
        items=[CancelInput(registration.pk, "PLANNING"), CancelInput(registration.pk, "PLANNING")],
        caller=employer,
        channel="WS",
    )
    assert first.errors == []
    assert codes(second) == [8]


def test_an_unknown_id_answers_code_7(employer):
    assert codes(cancel(employer, 999_999_999)) == [7]


def test_another_employers_registration_looks_exactly_like_an_unknown_one(employer):
    other = caller_for(make_client(ClientRole.ENTERPRISE))
    theirs = register(other)
    result = cancel(employer, theirs.pk)
    unknown = cancel(employer, 999_999_999)
    assert [(e.code, e.description) for e in result.errors] == [(e.code, e.description) for e in unknown.errors]
    assert result.registration is None
    assert Registration.objects.get(pk=theirs.pk).status != Status.CANCELLED


@pytest.mark.parametrize("reason", ["VACATION", "holiday", "", "C32B"])
def test_a_reason_outside_the_four_answers_code_11(employer, reason):
    registration = register(employer)
    assert codes(cancel(employer, registration.pk, reason=reason)) == [11]
    assert Registration.objects.get(pk=registration.pk).status != Status.CANCELLED


def test_a_registration_of_yesterday_is_too_late_to_cancel(employer):
    import time_machine

    registration = register(employer)
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        assert codes(cancel(employer, registration.pk)) == [9]


def test_a_registration_for_tomorrow_can_be_cancelled_today(employer):
    registration = register(employer, registration_date=timezone.localdate() + timedelta(days=1))
    assert cancel(employer, registration.pk).errors == []


def test_the_employer_may_cancel_what_another_sender_registered_for_it(employer):
    secretariat_like_sender = caller_for(make_client(ClientRole.ENTERPRISE))
    registration = register(secretariat_like_sender, enterprise_number=employer.enterprise_number)
    assert cancel(employer, registration.pk).errors == []


def test_a_builder_sees_but_cannot_cancel_a_subcontractors_registration(employer):
    subcontractor = caller_for(make_client(ClientRole.ENTERPRISE))
    declaration = make_declaration(
        builder=employer.enterprise_number, subcontractors=(subcontractor.enterprise_number,)
    )
    registration = register(subcontractor, workplace_id=declaration.number)
    assert codes(cancel(employer, registration.pk)) == [1]


def test_inspection_may_consult_but_not_cancel(employer):
    inspection = caller_for(make_client(ClientRole.INSPECTION))
    registration = register(employer)
    assert codes(cancel(inspection, registration.pk)) == [1]


def test_a_cleaning_registration_is_not_cancelled_through_soap(employer):
    registration = register(employer)
    Registration.objects.filter(pk=registration.pk).update(sector=Sector.CLEANING)
    assert codes(cancel(employer, registration.pk, channel="WS")) == [10]


def test_an_operator_may_cancel_anything_and_is_recorded_as_actor(employer):
    registration = register(employer)
    operator = Caller.for_operator("alice")
    assert cancel(operator, registration.pk, channel="ADMIN").errors == []
    last = registration.history_events.order_by("-seq").first()
    assert (last.actor, last.channel) == ("operator:alice", "ADMIN")


@pytest.mark.parametrize("count", [0, 201])
def test_a_cancel_batch_of_0_or_201_items_is_refused(employer, count):
    with pytest.raises(BatchSizeError):
        registration_cancel_batch(items=[CancelInput(1, "PLANNING")] * count, caller=employer, channel="WS")
