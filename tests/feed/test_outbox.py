"""The outbox: a published history event and its outbox entry commit together; the
publisher numbers committed entries in commit order; a lost hand-off is made good by the
sweep; the retention purge takes feed events and entries with their registration."""

import threading
from datetime import date

import pytest
import time_machine
from django.db import connection, transaction

from feed.models import Delivery, FeedEvent
from feed.selectors import feed_head, feed_page
from feed.services.publishing import feed_publish
from feed.services.subscriptions import subscription_create
from feed.tasks import sweep_feed
from history.events import EventType
from history.models import HistoryEvent, OutboxEntry
from history.services import NewEvent, history_record_many
from registrations.domain.authorisation import Caller
from registrations.domain.vocabulary import Channel, ClientRole
from registrations.services.presences import registration_submit_batch, registrations_consulted
from registrations.services.retention import registrations_purge_expired, registrations_set_legal_hold
from registrations.validation.run import registration_validate_batch
from tests.conftest import use_broker
from tests.factories import caller_for, make_client, presence
from tests.operators.conftest import make_registration

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def _created(registration_id: int) -> NewEvent:
    return NewEvent(registration_id, EventType.CANCELLED, "client:x", "WS", {"status": "SUCCESSFULLY CANCELLED"})


def test_a_published_event_and_its_outbox_entry_commit_or_roll_back_together(employer):
    [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel=Channel.WS)
    registration_id = result.registration.pk
    entries = OutboxEntry.objects.filter(event__registration_id=registration_id)
    assert entries.count() == 1  # its registration.created

    def failing_change() -> None:
        with transaction.atomic():
            history_record_many([_created(registration_id)])
            assert entries.count() == 2
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()

    assert entries.count() == 1
    assert not HistoryEvent.objects.filter(registration_id=registration_id, event_type=EventType.CANCELLED).exists()


def test_inspection_reads_and_legal_holds_are_not_published(employer):
    [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel=Channel.WS)
    inspection = caller_for(make_client(ClientRole.INSPECTION))
    registrations_consulted(caller=inspection, registrations=[result.registration], channel=Channel.REST)
    registrations_set_legal_hold(registration_ids=[result.registration.pk], hold=True, caller=Caller.for_operator("o"))

    published = OutboxEntry.objects.filter(event__registration_id=result.registration.pk)
    assert list(published.values_list("event__event_type", flat=True)) == [EventType.CREATED]


def test_events_get_dense_positions_in_the_order_they_were_written(employer):
    results = registration_submit_batch(
        items=[presence(caller=employer) for _ in range(3)], caller=employer, channel=Channel.WS
    )
    ids = [result.registration.pk for result in results]
    registration_validate_batch(registration_ids=ids)
    head = feed_head()

    assert feed_publish().events == 6

    events = list(FeedEvent.objects.filter(position__gt=head).order_by("position"))
    assert [event.position for event in events] == list(range(head + 1, head + 7))
    assert [(event.registration_id, event.event_type) for event in events] == [
        *[(pk, "registration.created") for pk in ids],
        *[(pk, "registration.failed") for pk in ids],
    ]
    assert not OutboxEntry.objects.exists()
    assert feed_publish().events == 0  # publishing again publishes nothing twice


def test_a_lost_publication_hand_off_is_made_good_by_the_sweep(
    employer, real_broker, django_capture_on_commit_callbacks, caplog
):
    use_broker("redis://127.0.0.1:1/0")  # nothing listens there: every publish fails
    with django_capture_on_commit_callbacks(execute=True):
        [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel=Channel.WS)

    assert "feed publication hand-off failed" in caplog.text
    assert OutboxEntry.objects.filter(event__registration_id=result.registration.pk).exists()
    assert not FeedEvent.objects.filter(registration_id=result.registration.pk).exists()

    sweep_feed()

    assert not OutboxEntry.objects.exists()
    page = feed_page(caller=employer, after=0)
    assert [item["data"]["registration"]["id"] for item in page.items] == [result.registration.pk]


def test_the_retention_purge_takes_the_feed_events_and_deliveries_with_the_registration(employer, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        expired = make_registration(registration_date=date(2019, 1, 10), sender_id=employer.client_id)
        subscription_create(caller=employer, target_url="http://127.0.0.1:9/hook")
        feed_publish()  # its created event, and a delivery of it
        history_record_many([_created(expired.pk)])  # waiting in the outbox
        assert Delivery.objects.filter(registration_id=expired.pk).exists()

        assert registrations_purge_expired().registrations == 1

    assert not FeedEvent.objects.filter(registration_id=expired.pk).exists()
    assert not OutboxEntry.objects.exists()
    assert not Delivery.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_published_after_what_a_reader_has_seen(employer):
    """Two writers, the first commits last: the reader's cursor never skips its event."""
    results = registration_submit_batch(
        items=[presence(caller=employer) for _ in range(2)], caller=employer, channel=Channel.WS
    )
    slow_id, fast_id = (result.registration.pk for result in results)
    feed_publish()
    cursor = feed_page(caller=employer, after=0).cursor
    written, commit = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with transaction.atomic():
            history_record_many([_created(slow_id)])  # its outbox entry gets the lower id
            written.set()
            commit.wait(30)
        connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert written.wait(30)
    with transaction.atomic():
        history_record_many([_created(fast_id)])
    feed_publish()  # the slow entry is not committed: only the fast one is published
    first = feed_page(caller=employer, after=cursor)
    assert [item["data"]["registration"]["id"] for item in first.items] == [fast_id]

    commit.set()
    thread.join(30)
    feed_publish()
    second = feed_page(caller=employer, after=first.cursor)
    assert [item["data"]["registration"]["id"] for item in second.items] == [slow_id]
