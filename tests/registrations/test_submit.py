"""Submitting batches: per-item results, limits, resends and the validation hand-off."""

import pytest

from history.models import HistoryEvent
from history.services import announce_outbox
from registrations.domain.exceptions import BatchSizeError, NotAuthorisedError
from registrations.models import ClientRole, Registration, Status
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def test_a_200_item_batch_stores_the_valid_items_and_reports_the_others_in_order(
    employer, django_assert_max_num_queries
):
    items = []
    for index in range(200):
        niss = make_niss() if index % 7 else make_niss()[:-2] + "00"  # every 7th has a bad check
        items.append(presence(caller=employer, niss=niss))
    # A fixed handful of statements, never one per row (SQLite's backend splits a bulk
    # INSERT at 999 parameters, so there it is 5 INSERTs for 171 rows; one on PostgreSQL).
    with django_assert_max_num_queries(12):
        results = registration_submit_batch(items=items, caller=employer, channel="WS")

    assert len(results) == 200
    bad = [index for index, result in enumerate(results) if result.errors]
    assert bad == list(range(0, 200, 7))
    for index, result in enumerate(results):
        if index in bad:
            assert result.registration is None
            assert [int(error.code) for error in result.errors] == [5]
        else:
            assert result.registration.pk is not None
            assert result.registration.niss == items[index].niss
    assert Registration.objects.count() == 200 - len(bad)
    assert HistoryEvent.objects.filter(event_type="registration.created").count() == 200 - len(bad)


def test_each_stored_registration_keeps_what_was_submitted_and_its_sender(employer):
    item = presence(caller=employer, submitted={"INSS": "as sent", "CompanyID": 448181966})
    [result] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    stored = Registration.objects.get(pk=result.registration.pk)
    assert stored.submitted == {"INSS": "as sent", "CompanyID": 448181966}
    assert stored.sender_id == employer.client_id
    assert stored.sender_enterprise_number == employer.enterprise_number
    assert stored.channel == "WS"
    assert stored.status == Status.REGISTERED


@pytest.mark.parametrize("count", [0, 201])
def test_a_batch_of_0_or_201_items_is_refused_whole(employer, count):
    items = [presence(caller=employer) for _ in range(count)]
    with pytest.raises(BatchSizeError, match="1 to 200"):
        registration_submit_batch(items=items, caller=employer, channel="WS")
    assert not Registration.objects.exists()


@pytest.mark.parametrize("role", [ClientRole.INSPECTION, ClientRole.PROFESSIONAL])
def test_consult_only_clients_cannot_register(role):
    caller = caller_for(make_client(role))
    with pytest.raises(NotAuthorisedError):
        registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel="WS")
    assert not Registration.objects.exists()


def test_a_resent_presence_returns_the_stored_registration_without_a_second_row(employer):
    item = presence(caller=employer)
    [first] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    [again] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    assert again.replayed
    assert again.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1


def test_the_same_presence_twice_in_one_batch_is_stored_once(employer):
    item = presence(caller=employer)
    first, second = registration_submit_batch(items=[item, item], caller=employer, channel="WS")
    assert not first.replayed
    assert second.replayed
    assert second.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1


def test_another_sender_registering_the_same_presence_gets_its_own_registration(employer):
    other = caller_for(make_client(ClientRole.ENTERPRISE))
    item = presence(caller=employer)
    registration_submit_batch(items=[item], caller=employer, channel="WS")
    [theirs] = registration_submit_batch(items=[item], caller=other, channel="WS")
    assert not theirs.replayed
    assert Registration.objects.count() == 2


def without_feed(callbacks):
    """The after-commit callbacks but history's announcement of published events to the
    feed (docs/feed.md), which every transaction that writes such events makes."""
    return [callback for callback in callbacks if callback is not announce_outbox]


def test_validation_is_handed_off_after_commit(employer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = registration_submit_batch(
            items=[presence(caller=employer) for _ in range(3)], caller=employer, channel="WS"
        )
    assert len(without_feed(callbacks)) == 1  # one task for the batch
    for result in results:
        registration = Registration.objects.get(pk=result.registration.pk)
        assert registration.status in (Status.VALIDATED, Status.FAILED)
        types = list(registration.history_events.order_by("seq").values_list("event_type", flat=True))
        assert types == ["registration.created", "registration.validated"]


def test_nothing_is_handed_off_before_commit(employer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel="WS")
    assert len(without_feed(callbacks)) == 1
    assert Registration.objects.get(pk=result.registration.pk).status == Status.REGISTERED
