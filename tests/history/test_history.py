"""History is append-only and hash-chained (spec §3.2)."""

import pytest
from django.db import DatabaseError, connection, transaction

from history.models import HistoryEvent, HistoryIsAppendOnlyError
from history.selectors import history_for_registration, history_verify
from registrations.models import ClientRole
from registrations.services.presences import CancelInput, registration_cancel_batch, registration_submit_batch
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def registration():
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    [result] = registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel="WS")
    registration_validate_batch(registration_ids=[result.registration.pk])
    registration_cancel_batch(items=[CancelInput(result.registration.pk, "HOLIDAY")], caller=caller, channel="WS")
    return result.registration


def test_history_lists_every_fact_in_order_with_actor_and_channel(registration):
    events = history_for_registration(registration_id=registration.pk)
    assert [event.event_type for event in events] == [
        "registration.created",
        "registration.validated",
        "registration.cancelled",
    ]
    assert [event.seq for event in events] == [1, 2, 3]
    assert [event.channel for event in events] == ["WS", "WORKER", "WS"]
    assert events[0].actor.startswith("client:")
    assert events[1].actor == "worker"


def test_each_event_is_chained_to_the_previous_one(registration):
    events = history_for_registration(registration_id=registration.pk)
    assert events[0].prev_hash == ""
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert history_verify(registration_id=registration.pk)


def test_an_event_cannot_be_changed_through_the_orm(registration):
    event = history_for_registration(registration_id=registration.pk)[0]
    event.data = {"status": "VALIDATED"}
    with pytest.raises(HistoryIsAppendOnlyError):
        event.save()
    with pytest.raises(HistoryIsAppendOnlyError):
        HistoryEvent.objects.filter(pk=event.pk).update(actor="someone else")


def test_an_event_cannot_be_deleted_through_the_orm(registration):
    event = history_for_registration(registration_id=registration.pk)[0]
    with pytest.raises(HistoryIsAppendOnlyError):
        event.delete()
    with pytest.raises(HistoryIsAppendOnlyError):
        HistoryEvent.objects.filter(registration_id=registration.pk).delete()
    assert len(history_for_registration(registration_id=registration.pk)) == 3


def test_the_database_refuses_an_update_in_raw_sql(registration):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE history_historyevent SET actor = 'forger' WHERE registration_id = %s", [registration.pk])
    assert history_verify(registration_id=registration.pk)


@pytest.mark.postgres
def test_postgresql_refuses_a_delete_in_raw_sql(registration):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM history_historyevent WHERE registration_id = %s", [registration.pk])
    assert len(history_for_registration(registration_id=registration.pk)) == 3


def test_a_rewritten_event_breaks_the_chain(registration, monkeypatch):
    # A forger who got past the trigger rewrote an event: verification must notice.
    from history import selectors

    events = history_for_registration(registration_id=registration.pk)
    events[1].data = {"status": "VALIDATED", "remarks": []}
    events[1].actor = "forger"
    monkeypatch.setattr(selectors, "history_for_registration", lambda **_: events)
    assert not history_verify(registration_id=registration.pk)


def test_a_registration_with_history_cannot_be_deleted(registration):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        registration.delete()
